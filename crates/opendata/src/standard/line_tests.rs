//! The line a problem is reported on, for files with CRLF or LF line ends
//! and blank lines.

#[test]
fn rows_are_reported_by_their_line_in_the_file() {
    let t = super::template("aed").unwrap();
    let header = super::sample_csv(t);
    let cols: Vec<&str> = header
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .split(',')
        .collect();
    for eol in ["\r\n", "\n"] {
        let mut csv = cols.join(",") + eol;
        for code in ["242012", "242011", "242012"] {
            let row: Vec<&str> = cols
                .iter()
                .map(|c| match *c {
                    "全国地方公共団体コード" => code,
                    "名称" => "津市役所",
                    "所在地_連結表記" => "三重県津市西丸之内23番1号",
                    "設置位置" => "1階",
                    _ => "",
                })
                .collect();
            csv += &row.join(",");
            csv += eol;
            if code == "242011" {
                csv += eol; // a blank line after the bad row
            }
        }
        let errors = super::validate(t, csv.as_bytes()).err().unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 3, "{eol:?}: {errors:?}");
        assert_eq!(errors[0].column, "全国地方公共団体コード");
    }
}
