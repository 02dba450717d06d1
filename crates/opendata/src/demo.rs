//! The demo catalogue's content: four groups and ten datasets of the demo
//! local governments (三重県, 津市, 富山県, 福島県), each with its files.
//! Every figure, name and address is fictional; links point under
//! example.jp.
//!
//! Domain data: `service::demo` loads it through the same service calls as
//! the API and the staff pages, so that the standard datasets' CSV files
//! are checked as any upload is.

/// The demo groups: (name, title, description).
pub(crate) const GROUPS: &[(&str, &str, &str)] = &[
    (
        "kosodate",
        "子育て",
        "保育所や幼稚園、子育ての相談窓口など、子育てに関するデータです。",
    ),
    (
        "bousai",
        "防災",
        "避難場所やAEDの設置場所など、災害や急病に備えるためのデータです。",
    ),
    (
        "kanko",
        "観光",
        "観光地の入込客数や海水浴場など、観光に関するデータです。",
    ),
    (
        "shisetsu",
        "公共施設",
        "公園、体育館、公民館など、県と市町村の施設に関するデータです。",
    ),
];

/// A file or a link of a demo dataset.
pub(crate) enum Data {
    /// A file to upload: its name and bytes.
    File(&'static str, Vec<u8>),
    /// A link: its URL and format.
    Link(&'static str, &'static str),
}

pub(crate) struct DemoResource {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) data: Data,
}

pub(crate) struct DemoDataset {
    /// The local government's 全国地方公共団体コード.
    pub(crate) org: &'static str,
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) notes: &'static str,
    pub(crate) tags: &'static [&'static str],
    pub(crate) groups: &'static [&'static str],
    pub(crate) licence: &'static str,
    pub(crate) private: bool,
    pub(crate) template: Option<&'static str>,
    pub(crate) extras: &'static [(&'static str, &'static str)],
    pub(crate) resources: Vec<DemoResource>,
}

const TSU_PARKS: &str = "\
名称,所在地,面積(平方メートル),主な施設,トイレ,駐車場(台),緯度,経度\r
中央公園,三重県津市丸之内8番15号,12500,遊具・芝生広場・噴水,有,20,34.7183,136.5108\r
岩田川河畔公園,三重県津市中央2番30号,8300,散策路・ベンチ,有,0,34.7135,136.5151\r
阿漕浦ふれあい緑地,三重県津市港町7番1号,25400,野球場・多目的広場,有,120,34.7058,136.5312\r
一身田ふれあい公園,三重県津市一身田町210番地,6100,遊具・砂場,有,12,34.7552,136.5178\r
久居駅前ひろば公園,三重県津市久居新町1020番地,3200,ステージ・ベンチ,無,0,34.6775,136.4702\r
高茶屋こども公園,三重県津市高茶屋5丁目8番3号,4800,遊具・じゃぶじゃぶ池,有,15,34.6658,136.5061\r
白塚しおかぜ公園,三重県津市白塚町3305番地,9700,芝生広場・展望台,有,30,34.7681,136.5298\r
河芸みどりの丘公園,三重県津市河芸町東千里150番地,18200,アスレチック・キャンプ場,有,80,34.7921,136.5274\r
香良洲さくら公園,三重県津市香良洲町2100番地,5600,桜並木・遊具,有,25,34.6502,136.5546\r
美杉せせらぎ公園,三重県津市美杉町八知4400番地,7300,川遊び場・あずまや,有,40,34.5421,136.2588\r
";

const TSU_AED: &str = "\
全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,所在地_連結表記,所在地_都道府県,所在地_市区町村,所在地_町字,所在地_番地以下,建物名等(方書),緯度,経度,設置位置,電話番号,利用可能曜日,開始時間,終了時間,利用可能日時特記事項,小児対応設備の有無,URL,備考\r
242012,AED-001,津市,津市中央市民センター,ツシチュウオウシミンセンター,三重県津市丸之内9番10号,三重県,津市,丸之内,9番10号,,34.7178,136.5112,1階 受付横,059-000-1001,\"月,火,水,木,金,土\",09:00,21:00,年末年始を除く,有,https://www.city.tsu.example.jp/aed/001,\r
242012,AED-002,津市,津市栄町体育館,ツシサカエマチタイイクカン,三重県津市栄町2丁目15番8号,三重県,津市,栄町二丁目,15番8号,,34.7262,136.5079,1階 アリーナ入口,059-000-1002,\"火,水,木,金,土,日\",09:00,21:00,月曜日は休館,有,https://www.city.tsu.example.jp/aed/002,\r
242012,AED-003,津市,大門ふれあい会館,ダイモンフレアイカイカン,三重県津市大門5番21号,三重県,津市,大門,5番21号,,34.7195,136.5140,2階 事務室前,059-000-1003,\"月,火,水,木,金\",08:30,17:15,祝日と年末年始を除く,無,https://www.city.tsu.example.jp/aed/003,\r
242012,AED-004,津市,一身田地区市民センター,イッシンデンチクシミンセンター,三重県津市一身田町333番地,三重県,津市,一身田町,333番地,,34.7550,136.5160,玄関ホール,059-000-1004,\"月,火,水,木,金\",08:30,17:15,祝日と年末年始を除く,有,https://www.city.tsu.example.jp/aed/004,\r
242012,AED-005,津市,久居総合福祉会館,ヒサイソウゴウフクシカイカン,三重県津市久居新町3006番地2,三重県,津市,久居新町,3006番地2,,34.6760,136.4690,1階 ロビー,059-000-1005,\"月,火,水,木,金,土\",08:30,21:00,年末年始を除く,有,https://www.city.tsu.example.jp/aed/005,\r
242012,AED-006,津市,河芸海浜プール,カワゲカイヒンプール,三重県津市河芸町上野2841番地,三重県,津市,河芸町上野,2841番地,,34.7890,136.5370,監視室,059-000-1006,\"月,火,水,木,金,土,日\",09:00,18:00,7月と8月のみ,有,https://www.city.tsu.example.jp/aed/006,\r
242012,AED-007,津市,香良洲公民館,カラスコウミンカン,三重県津市香良洲町1588番地,三重県,津市,香良洲町,1588番地,,34.6480,136.5580,1階 事務室,059-000-1007,\"月,火,水,木,金\",08:30,17:15,祝日と年末年始を除く,無,https://www.city.tsu.example.jp/aed/007,\r
242012,AED-008,津市,白塚漁港管理棟,シロツカギョコウカンリトウ,三重県津市白塚町4520番地,三重県,津市,白塚町,4520番地,管理棟,34.7670,136.5330,管理棟の外壁（屋外の収納箱）,059-000-1008,\"月,火,水,木,金,土,日\",00:00,24:00,24時間使えます,有,https://www.city.tsu.example.jp/aed/008,屋外設置\r
";

const TSU_BEACHES: &str = "\
名称,所在地,開設期間,遊泳時間,駐車場(台),シャワー,緯度,経度\r
津なぎさ海岸,三重県津市港町10番地,7月15日～8月31日,9:00～16:00,150,有,34.7042,136.5365\r
白塚しおさい浜,三重県津市白塚町5000番地,7月20日～8月25日,9:00～16:00,60,有,34.7702,136.5360\r
河芸マリン浜,三重県津市河芸町東千里900番地,7月15日～8月31日,9:30～16:30,80,無,34.7935,136.5402\r
香良洲ひかり浜,三重県津市香良洲町3700番地,7月20日～8月20日,9:00～16:00,200,有,34.6455,136.5650\r
";

const TSU_WASTE: &str = "\
年月,可燃ごみ(t),不燃ごみ(t),資源ごみ(t),粗大ごみ(t)\r
2025-04,5120,310,890,140\r
2025-05,5340,325,910,165\r
2025-06,5010,298,870,128\r
";

const MIE_CHILDCARE: &str = "\
全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,種別,所在地_連結表記,所在地_都道府県,所在地_市区町村,緯度,経度,電話番号,収容定員,受入年齢,利用可能曜日,開始時間,終了時間,一時預かりの有無,URL,備考\r
240001,KS-001,三重県,つばめ保育園,ツバメホイクエン,認可私立保育所,三重県津市栄町4丁目1番2号,三重県,津市,34.7270,136.5090,059-000-2001,90,生後8週から5歳,\"月,火,水,木,金,土\",07:00,19:00,有,https://www.pref.mie.example.jp/kosodate/ks-001,\r
240001,KS-002,三重県,すずかけこども園,スズカケコドモエン,認定こども園（幼保連携型）,三重県四日市市桜台1丁目20番地,三重県,四日市市,34.9651,136.6204,059-000-2002,150,0歳から5歳,\"月,火,水,木,金,土\",07:00,19:00,有,https://www.pref.mie.example.jp/kosodate/ks-002,\r
240001,KS-003,三重県,いせの森幼稚園,イセノモリヨウチエン,私立幼稚園,三重県伊勢市楠部町800番地,三重県,伊勢市,34.4902,136.7128,059-000-2003,120,3歳から5歳,\"月,火,水,木,金\",08:30,14:00,無,https://www.pref.mie.example.jp/kosodate/ks-003,預かり保育は18時まで\r
240001,KS-004,三重県,ひまわり保育所,ヒマワリホイクショ,認可公立保育所,三重県名張市鴻之台3番町50番地,三重県,名張市,34.6281,136.1089,059-000-2004,60,6か月から5歳,\"月,火,水,木,金,土\",07:30,18:30,無,https://www.pref.mie.example.jp/kosodate/ks-004,\r
240001,KS-005,三重県,くわなベビールーム,クワナベビールーム,小規模保育事業,三重県桑名市中央町2丁目12番地,三重県,桑名市,35.0652,136.6840,059-000-2005,19,0歳から2歳,\"月,火,水,木,金\",07:30,18:30,有,https://www.pref.mie.example.jp/kosodate/ks-005,\r
240001,KS-006,三重県,まつさかキッズルーム,マツサカキッズルーム,認可外保育所,三重県松阪市日野町700番地,三重県,松阪市,34.5776,136.5283,059-000-2006,30,1歳から5歳,\"月,火,水,木,金,土,日\",08:00,20:00,有,https://www.pref.mie.example.jp/kosodate/ks-006,\r
";

const MIE_LIBRARY: &str = "\
年月,開館日数,来館者数(人),貸出冊数(冊),レファレンス件数(件)\r
2024-04,26,31250,48210,1320\r
2024-05,27,33410,50870,1285\r
2024-06,25,29880,46330,1190\r
2024-07,27,36720,55940,1410\r
2024-08,27,39150,60220,1505\r
2024-09,25,30440,47180,1230\r
2024-10,27,32960,49610,1300\r
2024-11,25,31020,47550,1265\r
2024-12,22,26340,41870,1050\r
2025-01,23,27810,43920,1120\r
2025-02,23,28650,44760,1150\r
2025-03,25,30990,47300,1240\r
";

const TOYAMA_FACILITIES: &str = "\
全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,所在地_連結表記,所在地_都道府県,所在地_市区町村,緯度,経度,電話番号,利用可能曜日,開始時間,終了時間,説明,URL\r
160008,TF-001,富山県,県民ふれあいプラザ,ケンミンフレアイプラザ,富山県富山市新総曲輪10番1号,富山県,富山市,36.6932,137.2140,076-000-3001,\"火,水,木,金,土,日\",09:00,21:00,会議室とホールの貸し出し,https://www.pref.toyama.example.jp/shisetsu/tf-001\r
160008,TF-002,富山県,県立みらい図書館,ケンリツミライトショカン,富山県富山市茶屋町200番地,富山県,富山市,36.7253,137.1651,076-000-3002,\"火,水,木,金,土,日\",09:30,19:00,蔵書約80万冊,https://www.pref.toyama.example.jp/shisetsu/tf-002\r
160008,TF-003,富山県,高岡総合体育センター,タカオカソウゴウタイイクセンター,富山県高岡市中川本町5番20号,富山県,高岡市,36.7541,137.0189,076-000-3003,\"月,水,木,金,土,日\",09:00,21:00,アリーナと武道場,https://www.pref.toyama.example.jp/shisetsu/tf-003\r
160008,TF-004,富山県,立山自然学習館,タテヤマシゼンガクシュウカン,富山県中新川郡立山町芦峅寺100番地,富山県,立山町,36.5833,137.4221,076-000-3004,\"水,木,金,土,日\",09:00,17:00,冬期（12月から3月）は休館,https://www.pref.toyama.example.jp/shisetsu/tf-004\r
160008,TF-005,富山県,氷見海浜交流館,ヒミカイヒンコウリュウカン,富山県氷見市北大町3番1号,富山県,氷見市,36.8605,136.9901,076-000-3005,\"月,火,水,木,金,土,日\",09:00,18:00,展示室と休憩所,https://www.pref.toyama.example.jp/shisetsu/tf-005\r
";

const FUKUSHIMA_SHELTERS: &str = "\
名称,所在地,市町村,緯度,経度,洪水,土砂災害,高潮,地震,津波,大規模な火事,想定収容人数\r
あづま総合運動公園,福島県福島市佐原字神事場1番地,福島市,37.7320,140.3903,○,,,○,,○,5000\r
信夫ヶ丘ふれあい広場,福島県福島市南矢野目字八反田20番地,福島市,37.7801,140.4550,,○,,○,,○,1200\r
開成山中央公園,福島県郡山市開成1丁目5番地,郡山市,37.4021,140.3564,,○,,○,,○,3000\r
郡山北部市民体育館,福島県郡山市富田町字上ノ台30番地,郡山市,37.4245,140.3470,○,○,,○,,,800\r
いわき高台ひろば,福島県いわき市平字梅本15番地,いわき市,37.0530,140.8870,○,○,○,○,○,○,2500\r
小名浜みなと公園,福島県いわき市小名浜字辰巳町50番地,いわき市,36.9438,140.9041,,,,○,,○,1500\r
鶴ヶ城北出丸広場,福島県会津若松市追手町1番地,会津若松市,37.4880,139.9300,○,,,○,,○,2000\r
会津若松西部体育館,福島県会津若松市門田町大字飯寺40番地,会津若松市,37.4700,139.9050,,○,,○,,,600\r
";

const FUKUSHIMA_CHILDCARE_DESKS: &str = "\
窓口名,所在地,電話番号,受付時間,相談できること\r
子育て世代包括支援センター（県北）,福島県福島市杉妻町1番1号,024-000-4001,平日 8:30～17:15,妊娠・出産・子育ての相談\r
子育て世代包括支援センター（県中）,福島県郡山市麓山1丁目1番1号,024-000-4002,平日 8:30～17:15,妊娠・出産・子育ての相談\r
子ども家庭相談ダイヤル,福島県福島市杉妻町1番1号,024-000-4003,毎日 9:00～21:00,子育ての悩み・しつけの相談\r
ひとり親家庭相談窓口,福島県いわき市平字梅本21番地,024-000-4004,平日 9:00～17:00,ひとり親家庭の生活と仕事の相談\r
";

/// 富山県's visitors per month at its main sights (fictional figures).
fn toyama_visitors() -> Vec<u8> {
    const SPOTS: &[(&str, &str, u64)] = &[
        ("立山黒部アルペンルート", "立山町", 95_000),
        ("黒部峡谷", "黒部市", 52_000),
        ("五箇山", "南砺市", 31_000),
        ("富山城址公園", "富山市", 44_000),
        ("雨晴海岸", "高岡市", 27_000),
        ("氷見漁港周辺", "氷見市", 38_000),
    ];
    // How busy each month is, in percent of the average.
    const SEASON: [u64; 12] = [55, 60, 75, 110, 135, 105, 140, 165, 120, 130, 85, 70];
    let mut csv = String::from("\u{feff}年,月,観光地点,市町村,入込客数(人)\r\n");
    for (m, season) in SEASON.iter().enumerate() {
        for (i, (spot, city, base)) in SPOTS.iter().enumerate() {
            // The Alpine Route is closed in winter.
            let closed = i == 0 && !(4..=11).contains(&(m + 1));
            let n = if closed {
                0
            } else {
                base * season / 100 + ((m as u64 * 37 + i as u64 * 53) % 11) * 120
            };
            csv.push_str(&format!("2024,{},{spot},{city},{n}\r\n", m + 1));
        }
    }
    csv.into_bytes()
}

/// The demo datasets, in the order they are loaded.
pub(crate) fn datasets() -> Vec<DemoDataset> {
    let utf8 = |s: &str| s.as_bytes().to_vec();
    let bom = |s: &str| format!("\u{feff}{s}").into_bytes();
    let cp932 = |s: &str| encoding_rs::SHIFT_JIS.encode(s).0.into_owned();
    vec![
        DemoDataset {
            org: "242012",
            name: "tsu-koen-ichiran",
            title: "津市 市立公園一覧",
            notes: "津市が管理する市立公園の名称、所在地、面積、主な施設、トイレと駐車場の有無の一覧です。\n文字コードは Shift_JIS（CP932）です。表計算ソフトでそのまま開けます。\n\n※デモ用の架空のデータです。実在の施設・数値とは関係ありません。",
            tags: &["公園", "緑地", "都市計画"],
            groups: &["shisetsu"],
            licence: "cc-by-4.0",
            private: false,
            template: None,
            extras: &[("更新頻度", "年1回（4月）"), ("対象地域", "津市")],
            resources: vec![DemoResource {
                name: "市立公園一覧（CSV）",
                description: "2025年4月1日時点。Shift_JIS（CP932）の CSV です。",
                data: Data::File("koen-ichiran.csv", cp932(TSU_PARKS)),
            }],
        },
        DemoDataset {
            org: "242012",
            name: "tsu-aed",
            title: "津市 AED設置箇所一覧",
            notes: "津市の施設に設置している AED（自動体外式除細動器）の場所、使える曜日と時間、小児用パッドの有無の一覧です。\n自治体標準オープンデータセット（AED設置箇所一覧）の形式に合わせています。\n\n※デモ用の架空のデータです。実在の施設・数値とは関係ありません。",
            tags: &["AED", "救急", "防災"],
            groups: &["bousai", "shisetsu"],
            licence: "cc-by-4.0",
            private: false,
            template: Some("aed"),
            extras: &[("更新頻度", "随時"), ("対象地域", "津市")],
            resources: vec![DemoResource {
                name: "AED設置箇所一覧（CSV）",
                description: "UTF-8（BOM付き）の CSV です。",
                data: Data::File("aed.csv", bom(TSU_AED)),
            }],
        },
        DemoDataset {
            org: "242012",
            name: "tsu-kaisuiyokujo",
            title: "津市 海水浴場一覧",
            notes: "津市内の海水浴場の開設期間、遊泳時間、駐車場とシャワーの有無です。\n\n※デモ用の架空のデータです。実在の施設・数値とは関係ありません。",
            tags: &["海", "観光", "海水浴"],
            groups: &["kanko"],
            licence: "cc-zero",
            private: false,
            template: None,
            extras: &[("更新頻度", "年1回（6月）")],
            resources: vec![
                DemoResource {
                    name: "海水浴場一覧（CSV）",
                    description: "2025年の開設予定です。",
                    data: Data::File("kaisuiyokujo.csv", utf8(TSU_BEACHES)),
                },
                DemoResource {
                    name: "海岸マップ（PDF）",
                    description: "海水浴場と駐車場の地図です。",
                    data: Data::Link("https://www.city.tsu.example.jp/kanko/umi-map.pdf", "PDF"),
                },
            ],
        },
        DemoDataset {
            org: "242012",
            name: "tsu-gomi-sokuho",
            title: "津市 ごみ排出量（月別速報値）",
            notes: "ごみの種類ごとの排出量の速報値です。確定値の集計が終わるまで非公開にしています。\n\n※デモ用の架空のデータです。",
            tags: &["ごみ", "環境", "統計"],
            groups: &[],
            licence: "cc-by-4.0",
            private: true,
            template: None,
            extras: &[],
            resources: vec![DemoResource {
                name: "ごみ排出量 速報値（CSV）",
                description: "",
                data: Data::File("gomi-sokuho.csv", utf8(TSU_WASTE)),
            }],
        },
        DemoDataset {
            org: "240001",
            name: "mie-kosodate-shisetsu",
            title: "三重県 子育て支援施設一覧",
            notes: "県内の保育所、幼稚園、認定こども園などの子育て施設の一覧です。種別、定員、受け入れる年齢、開いている時間、一時預かりの有無を載せています。\n自治体標準オープンデータセット（子育て施設一覧）の形式に合わせています。\n\n※デモ用の架空のデータです。実在の施設・数値とは関係ありません。",
            tags: &["子育て", "保育", "幼稚園"],
            groups: &["kosodate"],
            licence: "cc-by-4.0",
            private: false,
            template: Some("childcare_facility"),
            extras: &[("更新頻度", "年2回（4月・10月）"), ("対象地域", "三重県")],
            resources: vec![DemoResource {
                name: "子育て施設一覧（CSV）",
                description: "UTF-8（BOM付き）の CSV です。",
                data: Data::File("kosodate-shisetsu.csv", bom(MIE_CHILDCARE)),
            }],
        },
        DemoDataset {
            org: "240001",
            name: "mie-toshokan-riyosha",
            title: "三重県 県立図書館 月別利用者数",
            notes: "県立図書館の月ごとの開館日数、来館者数、貸出冊数、レファレンス（調べもの相談）の件数です。\n\n※デモ用の架空のデータです。",
            tags: &["図書館", "教育", "統計"],
            groups: &[],
            licence: "gov-jp-2.0",
            private: false,
            template: None,
            extras: &[("更新頻度", "毎月")],
            resources: vec![DemoResource {
                name: "月別利用者数 2024年度（CSV）",
                description: "2024年4月から2025年3月までです。",
                data: Data::File("toshokan-2024.csv", bom(MIE_LIBRARY)),
            }],
        },
        DemoDataset {
            org: "160008",
            name: "toyama-kanko-irikomi",
            title: "富山県 観光入込客数（主な観光地点・月別）",
            notes: "県内の主な観光地点を訪れた人の数（観光入込客数）を、月ごとにまとめたものです。\n\n※デモ用の架空のデータです。実在の統計とは関係ありません。",
            tags: &["観光", "統計"],
            groups: &["kanko"],
            licence: "pdl-1.0",
            private: false,
            template: None,
            extras: &[("更新頻度", "年1回"), ("対象地域", "富山県")],
            resources: vec![DemoResource {
                name: "観光入込客数 2024年（CSV）",
                description: "単位は人です。冬期に閉鎖する地点は0としています。",
                data: Data::File("kanko-irikomi-2024.csv", toyama_visitors()),
            }],
        },
        DemoDataset {
            org: "160008",
            name: "toyama-kokyo-shisetsu",
            title: "富山県 公共施設一覧",
            notes: "県が管理する公共施設の名称、所在地、使える曜日と時間です。\n自治体標準オープンデータセット（公共施設一覧）の形式に合わせています。\n\n※デモ用の架空のデータです。実在の施設とは関係ありません。",
            tags: &["公共施設"],
            groups: &["shisetsu"],
            licence: "cc-by-4.0",
            private: false,
            template: Some("public_facility"),
            extras: &[("対象地域", "富山県")],
            resources: vec![DemoResource {
                name: "公共施設一覧（CSV）",
                description: "UTF-8 の CSV です。",
                data: Data::File("kokyo-shisetsu.csv", utf8(TOYAMA_FACILITIES)),
            }],
        },
        DemoDataset {
            org: "070009",
            name: "fukushima-kinkyu-hinanbasho",
            title: "福島県 指定緊急避難場所一覧",
            notes: "災害のときに命を守るために逃げる場所（指定緊急避難場所）の一覧です。どの災害に使えるかを○で示しています。\n避難所（しばらく生活する場所）とは違います。\n\n※デモ用の架空のデータです。実在の避難場所とは関係ありません。",
            tags: &["防災", "避難場所", "災害"],
            groups: &["bousai"],
            licence: "gov-jp-2.0",
            private: false,
            template: None,
            extras: &[("更新頻度", "随時"), ("対象地域", "福島県")],
            resources: vec![
                DemoResource {
                    name: "指定緊急避難場所一覧（CSV）",
                    description: "○はその災害のときに使えることを示します。",
                    data: Data::File("kinkyu-hinanbasho.csv", bom(FUKUSHIMA_SHELTERS)),
                },
                DemoResource {
                    name: "避難場所マップ（PDF）",
                    description: "市町村ごとの地図です。",
                    data: Data::Link(
                        "https://www.pref.fukushima.example.jp/bousai/hinanbasho-map.pdf",
                        "PDF",
                    ),
                },
            ],
        },
        DemoDataset {
            org: "070009",
            name: "fukushima-kosodate-soudan",
            title: "福島県 子育て相談窓口一覧",
            notes: "妊娠、出産、子育ての悩みを相談できる県の窓口の一覧です。\n\n※デモ用の架空のデータです。",
            tags: &["子育て", "相談"],
            groups: &["kosodate"],
            licence: "cc-by-4.0",
            private: false,
            template: None,
            extras: &[],
            resources: vec![
                DemoResource {
                    name: "子育て相談窓口一覧（CSV）",
                    description: "",
                    data: Data::File("kosodate-soudan.csv", bom(FUKUSHIMA_CHILDCARE_DESKS)),
                },
                DemoResource {
                    name: "子育て応援ページ",
                    description: "窓口の案内ページです。",
                    data: Data::Link(
                        "https://www.pref.fukushima.example.jp/kosodate/soudan.html",
                        "HTML",
                    ),
                },
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_files_pass_their_templates() {
        for d in datasets() {
            let Some(key) = d.template else { continue };
            let t = crate::standard::template(key).expect("template");
            for r in &d.resources {
                if let Data::File(name, bytes) = &r.data {
                    let table = crate::standard::validate(t, bytes)
                        .unwrap_or_else(|e| panic!("{} {name}: {e:?}", d.name));
                    assert!(table.rows.len() >= 5, "{}", d.name);
                }
            }
        }
    }

    #[test]
    fn the_parks_file_is_cp932_and_reads_back() {
        let d = datasets()
            .into_iter()
            .find(|d| d.name == "tsu-koen-ichiran")
            .unwrap();
        let Data::File(_, bytes) = &d.resources[0].data else {
            panic!("a file")
        };
        assert!(std::str::from_utf8(bytes).is_err(), "not UTF-8");
        assert!(platform::import::decode(bytes).contains("岩田川河畔公園"));
    }

    #[test]
    fn names_are_valid_and_licences_known() {
        let all = datasets();
        assert_eq!(all.len(), 10);
        for d in &all {
            assert!(crate::model::name_problem(d.name).is_none(), "{}", d.name);
            assert!(crate::model::licence(d.licence).is_some(), "{}", d.licence);
        }
        assert!(all.iter().any(|d| d.tags.contains(&"海")));
    }
}
