//! The templates' consistency and the validation of good and bad files:
//! every cell check, the old recommended dataset's headers, the error limit
//! and input that must never panic.

use platform::import::RowError;

use super::cells::{check_cell, header_key};
use super::schema::ColumnKind as K;
use super::*;

fn public() -> &'static Template {
    template("public_facility").unwrap()
}

fn codes(errors: &[RowError]) -> Vec<(usize, &str, &str)> {
    errors
        .iter()
        .map(|e| (e.line, e.column.as_str(), e.code))
        .collect()
}

const GOOD: &str = "全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,所在地_連結表記,緯度,経度,電話番号,利用可能曜日,開始時間,終了時間,URL,備考\r\n\
242012,F001,三重県津市,津市役所,ツシヤクショ,三重県津市西丸之内23-1,34.7186,136.5056,059-229-3110,\"月,火,水,木,金\",08:30,17:15,https://www.info.city.tsu.mie.jp/,\r\n\
242012,F002,三重県津市,津市図書館,つしとしょかん,三重県津市西丸之内37-8,34.72,136.50,０５９－２２９－３３２１,月～金,9:00,19:00,,祝日は休館\r\n\
\r\n\
,,,,,,,,,,,,,\r\n";

#[test]
fn templates_are_consistent() {
    assert!(templates().len() >= 3);
    for t in templates() {
        assert_eq!(template(t.key).map(|x| x.key), Some(t.key));
        assert!(t.entity_type.chars().all(|c| c.is_ascii_alphanumeric()));
        for c in t.columns {
            assert!(
                c.en.chars().all(|ch| ch.is_ascii_alphanumeric()),
                "{}",
                c.en
            );
            assert_ne!(c.en, "id");
            assert_ne!(c.en, "type");
        }
        // No header name may point at two columns.
        let per_column: Vec<Vec<String>> = t
            .columns
            .iter()
            .map(|c| {
                let mut k = vec![header_key(c.ja), c.en.to_ascii_lowercase()];
                k.extend(c.aliases.iter().map(|a| header_key(a)));
                k.sort();
                k.dedup();
                k
            })
            .collect();
        let mut all: Vec<&String> = per_column.iter().flatten().collect();
        let total = all.len();
        all.sort();
        all.dedup();
        assert_eq!(
            total,
            all.len(),
            "{}: a header name maps to two columns",
            t.key
        );
        assert!(t.columns.iter().any(|c| c.required));
        assert!(sample_csv(t).starts_with("全国地方公共団体コード,ID,"));
        assert!(sample_csv(t).ends_with("\r\n"));
    }
    assert!(template("nope").is_none());
    assert_eq!(BODIK_TAG, "自治体標準ODS");
}

#[test]
fn good_file_in_every_encoding() {
    let utf8 = GOOD.as_bytes().to_vec();
    let bom = [b"\xEF\xBB\xBF".as_slice(), GOOD.as_bytes()].concat();
    let sjis = encoding_rs::SHIFT_JIS.encode(GOOD).0.into_owned();
    // Excel's "Unicode text": UTF-16LE with a BOM, tab-separated.
    let tsv = GOOD
        .replace("\"月,火,水,木,金\"", "月火水木金")
        .replace(',', "\t");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(tsv.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    for bytes in [utf8, bom, sjis, utf16] {
        let table = validate(public(), &bytes).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.cell(0, "localGovernmentCode"), Some("242012"));
        assert_eq!(table.cell(0, "availableDays"), Some("月,火,水,木,金"));
        assert_eq!(table.cell(1, "availableDays"), Some("月,火,水,木,金"));
        assert_eq!(table.cell(1, "nameKana"), Some("ツシトショカン"));
        assert_eq!(table.cell(1, "phoneNumber"), Some("059-229-3321"));
        assert_eq!(table.cell(1, "startTime"), Some("09:00"));
        assert_eq!(table.cell(1, "remarks"), Some("祝日は休館"));
        assert_eq!(table.cell(0, "buildingNameEtc"), Some(""));
        assert_eq!(table.rows[0].len(), public().columns.len());
    }
}

#[test]
fn old_recommended_dataset_headers() {
    let csv = "都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,名称,名称カナ,住所,方書,緯度,経度,設置位置,電話番号,利用可能曜日,開始時間,終了時間,小児対応設備の有無,ホームページ,謎の列\n\
                   242012,1,三重県,津市,津市役所,つしやくしょ,三重県津市西丸之内23-1,本庁舎,34.7186,136.5056,1階ロビー,059-229-3110,月火水木金,8:30,17:15,あり,http://example.jp/,x\n";
    let aed = template("aed").unwrap();
    let table = validate(aed, csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(table.cell(0, "localGovernmentName"), Some("三重県津市"));
    assert_eq!(table.cell(0, "identifier"), Some("1"));
    assert_eq!(table.cell(0, "nameKana"), Some("ツシヤクショ"));
    assert_eq!(table.cell(0, "fullAddress"), Some("三重県津市西丸之内23-1"));
    assert_eq!(table.cell(0, "buildingNameEtc"), Some("本庁舎"));
    assert_eq!(table.cell(0, "installationLocation"), Some("1階ロビー"));
    assert_eq!(table.cell(0, "pediatricEquipment"), Some("有"));
    assert_eq!(table.cell(0, "url"), Some("http://example.jp/"));
    assert_eq!(table.cell(0, "availableDays"), Some("月,火,水,木,金"));
    // Half-width katakana and full-width brackets in headers.
    let csv =
        "全国地方公共団体ｺｰﾄﾞ,名称,所在地_連結表記,建物名等（方書）,設置位置\n242012,a,b,c,d\n";
    let table = validate(aed, csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(table.cell(0, "buildingNameEtc"), Some("c"));
    // The ASCII attribute names work as headers too.
    let csv = "localGovernmentCode,name,fullAddress,installationLocation\n242012,a,b,c\n";
    assert!(validate(aed, csv.as_bytes()).is_ok());
    // A title row above the header.
    let csv = "AED設置箇所一覧（令和6年4月1日現在）\n全国地方公共団体コード,名称,所在地_連結表記,設置位置\n242012,a,b,c\n";
    let table = validate(aed, csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(table.rows.len(), 1);
}

#[test]
fn missing_and_duplicate_columns() {
    let csv = "ID,名称\n1,a\n";
    let errors = validate(public(), csv.as_bytes()).unwrap_err();
    assert_eq!(
        errors,
        vec![
            RowError::new(
                1,
                "",
                "opendata.row.missing_column",
                "全国地方公共団体コード"
            ),
            RowError::new(1, "", "opendata.row.missing_column", "所在地_連結表記"),
        ]
    );
    let csv = "全国地方公共団体コード,名称,所在地_連結表記,名称\n242012,a,b,c\n";
    let errors = validate(public(), csv.as_bytes()).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![(1, "名称", "opendata.row.duplicate_column")]
    );
    // The current name wins over an older one.
    let csv = "全国地方公共団体コード,名称,住所,所在地_連結表記\n242012,a,old,new\n";
    let table = validate(public(), csv.as_bytes()).unwrap();
    assert_eq!(table.cell(0, "fullAddress"), Some("new"));
}

#[test]
fn every_cell_error_with_line_and_column() {
    let csv = "全国地方公共団体コード,ID,名称,所在地_連結表記,緯度,経度,電話番号,法人番号,利用可能曜日,開始時間,終了時間,URL\n\
                   24201,1,,addr,91,181,abc,1234567890123,月火X,25:00,9:60,ftp://x\n\
                   242013,1,n,addr,35,,0,7000012050002,月～金,09:00,17:00,https://ok.example/\n";
    let errors = validate(public(), csv.as_bytes()).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![
            (2, "全国地方公共団体コード", "opendata.row.lg_code_short"),
            (2, "名称", "opendata.row.required"),
            (2, "緯度", "opendata.row.latitude"),
            (2, "経度", "opendata.row.longitude"),
            (2, "電話番号", "opendata.row.phone"),
            (2, "法人番号", "opendata.row.corporate_number"),
            (2, "利用可能曜日", "opendata.row.weekdays"),
            (2, "開始時間", "opendata.row.time"),
            (2, "終了時間", "opendata.row.time"),
            (2, "URL", "opendata.row.url"),
            (3, "全国地方公共団体コード", "opendata.row.lg_code"),
            (3, "電話番号", "opendata.row.phone"),
            (3, "経度", "opendata.row.coordinates_pair"),
            (3, "ID", "opendata.row.duplicate_id"),
        ]
    );
    assert_eq!(errors[0].value, "24201 → 242012");
    assert_eq!(errors[2].value, "91");
    assert_eq!(errors.last().unwrap().value, "2");
}

#[test]
fn childcare_values() {
    let t = template("childcare_facility").unwrap();
    let csv = "全国地方公共団体コード,名称,種別,所在地_連結表記,定員,認可等年月日,一時預かりの有無\n\
                   242012,a,認定こども園(幼保連携型),x,\"1,200人\",令和6年4月1日,×\n\
                   242012,b,保育園,x,六十,2024-02-30,たぶん\n";
    let errors = validate(t, csv.as_bytes()).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![
            (3, "種別", "opendata.row.one_of"),
            (3, "認可等年月日", "opendata.row.date"),
            (3, "定員", "opendata.row.integer"),
            (3, "一時預かりの有無", "opendata.row.presence"),
        ]
    );
    let ok = validate(
        t,
        csv.lines()
            .take(2)
            .collect::<Vec<_>>()
            .join("\n")
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        ok.cell(0, "facilityType"),
        Some("認定こども園（幼保連携型）")
    );
    assert_eq!(ok.cell(0, "capacity"), Some("1200"));
    assert_eq!(ok.cell(0, "authorizationDate"), Some("2024-04-01"));
    assert_eq!(ok.cell(0, "temporaryChildcare"), Some("無"));
}

#[test]
fn cell_checks() {
    assert_eq!(check_cell(K::LgCode, "０９２０１１"), Ok("092011".into()));
    assert_eq!(
        check_cell(K::LgCode, "92011"),
        Err(("opendata.row.lg_code_short", "92011 → 092011".into()))
    );
    assert_eq!(
        check_cell(K::LgCode, "1100"),
        Err(("opendata.row.lg_code_short", "1100 → 011002".into()))
    );
    assert_eq!(check_cell(K::Latitude, "-35.5"), Ok("-35.5".into()));
    assert_eq!(check_cell(K::Latitude, "－３５．５"), Ok("-35.5".into()));
    assert!(check_cell(K::Latitude, "NaN").is_err());
    assert!(check_cell(K::Latitude, "inf").is_err());
    assert!(check_cell(K::Longitude, "1e2").is_err());
    assert_eq!(check_cell(K::Longitude, "180"), Ok("180".into()));
    assert_eq!(check_cell(K::Time, "24:00"), Ok("24:00".into()));
    assert_eq!(check_cell(K::Time, "8時30分"), Ok("08:30".into()));
    assert_eq!(check_cell(K::Time, "9時"), Ok("09:00".into()));
    assert_eq!(check_cell(K::Time, "09:00:00"), Ok("09:00".into()));
    assert!(check_cell(K::Time, "9").is_ok());
    assert!(check_cell(K::Time, "24:01").is_err());
    assert!(check_cell(K::Time, "9:0:0:0").is_err());
    assert!(check_cell(K::Time, "午前9時").is_err());
    assert_eq!(check_cell(K::Date, "2024/4/1"), Ok("2024-04-01".into()));
    assert_eq!(
        check_cell(K::Date, "平成元年1月8日"),
        Ok("1989-01-08".into())
    );
    assert!(check_cell(K::Date, "令和100年1月1日").is_err());
    assert!(check_cell(K::Date, "24/4/1").is_err());
    assert_eq!(
        check_cell(K::Weekdays, "毎日"),
        Ok("月,火,水,木,金,土,日".into())
    );
    assert_eq!(check_cell(K::Weekdays, "土日祝"), Ok("土,日,祝".into()));
    assert_eq!(
        check_cell(K::Weekdays, "月曜日、水曜日"),
        Ok("月,水".into())
    );
    assert_eq!(
        check_cell(K::Weekdays, "平日・祝日"),
        Ok("月,火,水,木,金,祝".into())
    );
    assert_eq!(check_cell(K::Weekdays, "日曜・祝日"), Ok("日,祝".into()));
    assert_eq!(
        check_cell(K::Date, "2024/04/01 0:00:00"),
        Ok("2024-04-01".into())
    );
    assert_eq!(
        check_cell(K::Date, "2024-04-01T09:00"),
        Ok("2024-04-01".into())
    );
    assert!(check_cell(K::Weekdays, "金～月").is_err());
    assert!(check_cell(K::Weekdays, "～").is_err());
    assert_eq!(
        check_cell(K::CorporateNumber, "7000012050002"),
        Ok("7000012050002".into())
    );
    assert!(check_cell(K::CorporateNumber, "8000012050002").is_err());
    assert_eq!(
        check_cell(K::Url, "ＨＴＴＰＳ://a.jp"),
        Ok("HTTPS://a.jp".into())
    );
    assert!(check_cell(K::Url, "https://").is_err());
    assert!(check_cell(K::Url, "https://a b").is_err());
    assert_eq!(check_cell(K::Count, "００７"), Ok("7".into()));
    assert_eq!(check_cell(K::Count, "0"), Ok("0".into()));
    assert!(check_cell(K::Count, "-1").is_err());
    assert!(check_cell(K::Count, "9999999999999").is_err());
    assert_eq!(check_cell(K::Text, "  a\r\nb\u{7}　"), Ok("a\nb".into()));
    assert_eq!(
        check_cell(K::Kana, "ﾂｼ やくしょ"),
        Ok("ツシ ヤクショ".into())
    );
    assert_eq!(check_cell(K::Text, "　"), Ok(String::new()));
}

#[test]
fn ragged_rows_and_garbage_never_panic() {
    let csv = "全国地方公共団体コード,名称,所在地_連結表記\n242012,a\n242012,a,b,c\n242012,a,b,,\n";
    let errors = validate(public(), csv.as_bytes()).unwrap_err();
    assert_eq!(
        errors,
        vec![
            RowError::new(2, "", "opendata.row.ragged", "2"),
            RowError::new(3, "", "opendata.row.ragged", "4"),
        ]
    );
    assert_eq!(
        codes(&validate(public(), b"").unwrap_err()),
        vec![(1, "", "opendata.row.empty_file")]
    );
    assert_eq!(
        codes(&validate(public(), b"\r\n\r\n,,,\r\n").unwrap_err()),
        vec![(1, "", "opendata.row.empty_file")]
    );
    assert_eq!(
        codes(
            &validate(
                public(),
                "全国地方公共団体コード,名称,所在地_連結表記\r\n".as_bytes()
            )
            .unwrap_err()
        ),
        vec![(1, "", "opendata.row.no_rows")]
    );
    assert_eq!(
        codes(&validate(public(), b"PK\x03\x04\x14\x00").unwrap_err()),
        vec![(1, "", "opendata.row.spreadsheet")]
    );
    assert_eq!(
        codes(&validate(public(), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap_err()),
        vec![(1, "", "opendata.row.not_csv")]
    );
    // Pseudo-random bytes, quotes everywhere, lone CRs, huge cells.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..300 {
        let len = (round * 7) % 400;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pick = (seed % 12) as usize;
                if round % 2 == 0 {
                    b",\"\r\n\xe3\x81\x82a1;\x82\xa0"[pick]
                } else {
                    (seed >> 24) as u8
                }
            })
            .collect();
        let _ = validate(public(), &bytes);
        let with_header = [
            b"\xEF\xBB\xBF\xe5\x90\x8d\xe7\xa7\xb0,\xe4\xbd\x8f\xe6\x89\x80\n".as_slice(),
            &bytes,
        ]
        .concat();
        let _ = validate(template("aed").unwrap(), &with_header);
    }
    let huge = format!(
        "全国地方公共団体コード,名称,所在地_連結表記\n242012,{},b\n\"unterminated",
        "x".repeat(MAX_CELL_CHARS + 1)
    );
    let errors = validate(public(), huge.as_bytes()).unwrap_err();
    assert_eq!(errors[0].code, "opendata.row.too_long");
}

#[test]
fn errors_stop_at_the_limit() {
    let mut csv = String::from("全国地方公共団体コード,名称,所在地_連結表記\n");
    for _ in 0..(MAX_ERRORS + 50) {
        csv.push_str("x,,\n");
    }
    let errors = validate(public(), csv.as_bytes()).unwrap_err();
    assert_eq!(errors.len(), MAX_ERRORS + 1);
    assert_eq!(errors.last().unwrap().code, "opendata.row.too_many_errors");
}
