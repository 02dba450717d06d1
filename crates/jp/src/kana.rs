//! Kana normalisation and validation of katakana name readings (フリガナ).
//!
//! Residents type name readings in hiragana, half-width katakana (ｶﾀｶﾅ) or
//! full-width katakana; [`to_fullwidth_katakana`] folds all of them to
//! full-width katakana, and [`validate_katakana_name`] checks the result.

use thiserror::Error;

/// Maximum number of characters in a katakana name.
pub const MAX_NAME_CHARS: usize = 50;

/// The ideographic (full-width) space.
const IDEOGRAPHIC_SPACE: char = '\u{3000}';

/// Full-width equivalents of the half-width katakana block
/// `U+FF61..=U+FF9F`, in order.
const HALFWIDTH_TO_FULLWIDTH: [char; 63] = [
    '。', '「', '」', '、', '・', 'ヲ', 'ァ', 'ィ', 'ゥ', 'ェ', 'ォ', 'ャ', 'ュ', 'ョ', 'ッ', 'ー',
    'ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク', 'ケ', 'コ', 'サ', 'シ', 'ス', 'セ', 'ソ', 'タ',
    'チ', 'ツ', 'テ', 'ト', 'ナ', 'ニ', 'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ', 'フ', 'ヘ', 'ホ', 'マ', 'ミ',
    'ム', 'メ', 'モ', 'ヤ', 'ユ', 'ヨ', 'ラ', 'リ', 'ル', 'レ', 'ロ', 'ワ', 'ン', '゛', '゜',
];

/// A voicing mark that may follow a kana.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// Dakuten (濁点): ﾞ, U+3099, ゛.
    Voiced,
    /// Handakuten (半濁点): ﾟ, U+309A, ゜.
    SemiVoiced,
}

fn mark_of(c: char) -> Option<Mark> {
    match c {
        '\u{FF9E}' | '\u{3099}' | '\u{309B}' => Some(Mark::Voiced),
        '\u{FF9F}' | '\u{309A}' | '\u{309C}' => Some(Mark::SemiVoiced),
        _ => None,
    }
}

/// The precomposed katakana for `base` followed by `mark`, if one exists.
fn compose(base: char, mark: Mark) -> Option<char> {
    let b = base as u32;
    let composed = match mark {
        Mark::Voiced => match b {
            // カ..チ: every second code point is the voiced form.
            0x30AB..=0x30C1 if (b - 0x30AB).is_multiple_of(2) => b + 1,
            // ツ テ ト
            0x30C4 | 0x30C6 | 0x30C8 => b + 1,
            // ハ ヒ フ ヘ ホ
            0x30CF..=0x30DB if (b - 0x30CF).is_multiple_of(3) => b + 1,
            // ウ → ヴ
            0x30A6 => 0x30F4,
            // ワ ヰ ヱ ヲ → ヷ ヸ ヹ ヺ
            0x30EF..=0x30F2 => b + 8,
            // ヽ → ヾ
            0x30FD => 0x30FE,
            _ => return None,
        },
        Mark::SemiVoiced => match b {
            0x30CF..=0x30DB if (b - 0x30CF).is_multiple_of(3) => b + 2,
            _ => return None,
        },
    };
    char::from_u32(composed)
}

/// Returns true for the hiragana letters `ぁ..=ゖ` and the iteration marks
/// `ゝ`, `ゞ`.
pub fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}')
}

/// Returns true for the half-width katakana block `U+FF61..=U+FF9F`
/// (including half-width punctuation and voicing marks).
pub fn is_halfwidth_katakana(c: char) -> bool {
    matches!(c, '\u{FF61}'..='\u{FF9F}')
}

/// The full-width form of a single character, before voicing marks are
/// combined. `ゟ` (the より ligature) expands to two characters.
fn push_fullwidth(c: char, out: &mut String) {
    match c {
        '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => {
            out.push(char::from_u32(c as u32 + 0x60).unwrap_or(c));
        }
        '\u{309F}' => out.push_str("ヨリ"),
        '\u{FF61}'..='\u{FF9F}' => {
            let index = (c as u32 - 0xFF61) as usize;
            out.push(HALFWIDTH_TO_FULLWIDTH.get(index).copied().unwrap_or(c));
        }
        _ => out.push(c),
    }
}

/// Normalises kana to full-width katakana.
///
/// - hiragana `ぁ..=ゖ` → `ァ..=ヶ`, `ゝゞ` → `ヽヾ`;
/// - half-width katakana → full-width, combining a following half-width
///   dakuten `ﾞ` or handakuten `ﾟ` into the precomposed letter (`ｶﾞ` → `ガ`,
///   `ﾊﾟ` → `パ`, `ｳﾞ` → `ヴ`), `ｰ` → `ー`;
/// - the combining marks U+3099 / U+309A (and the spacing marks `゛` `゜`)
///   after a kana that has a precomposed voiced form are combined
///   (`カ\u{3099}` → `ガ`); a half-width mark that cannot be combined becomes
///   the full-width spacing mark `゛` / `゜`;
/// - runs of whitespace (ASCII or ideographic) become one ideographic space
///   `U+3000`, and leading and trailing whitespace is removed.
///
/// Other characters are kept as they are. The function is idempotent.
///
/// ```
/// use jp::kana::to_fullwidth_katakana;
/// assert_eq!(to_fullwidth_katakana("やまだ たろう"), "ヤマダ\u{3000}タロウ");
/// assert_eq!(to_fullwidth_katakana(" ﾔﾏﾀﾞ  ﾊﾟﾝ "), "ヤマダ\u{3000}パン");
/// ```
pub fn to_fullwidth_katakana(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    // The last character pushed to `out`, if a voicing mark may still be
    // combined with it (i.e. no whitespace came in between).
    let mut last: Option<char> = None;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = true;
            last = None;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(IDEOGRAPHIC_SPACE);
        }
        pending_space = false;
        if let Some(mark) = mark_of(c)
            && let Some(composed) = last.and_then(|base| compose(base, mark))
        {
            out.pop();
            out.push(composed);
            last = Some(composed);
            continue;
        }
        let before = out.len();
        push_fullwidth(c, &mut out);
        last = out
            .get(before..)
            .and_then(|pushed| pushed.chars().next_back());
    }
    out
}

/// Converts full-width katakana `ァ..=ヶ` to hiragana `ぁ..=ゖ` and `ヽヾ` to
/// `ゝゞ`; everything else (including `ー`, `ヷ..=ヺ` and half-width katakana)
/// is kept. For a string of hiragana this inverts [`to_fullwidth_katakana`].
///
/// ```
/// assert_eq!(jp::kana::to_hiragana("ヤマダ・タロウ"), "やまだ・たろう");
/// ```
pub fn to_hiragana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' | '\u{30FD}' | '\u{30FE}' => {
                char::from_u32(c as u32 - 0x60).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

/// Characters allowed in a katakana name: `ァ..=ヺ`, `・`, `ー`, `ヽ`, `ヾ` and
/// the ideographic space.
pub fn is_name_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FE}' | IDEOGRAPHIC_SPACE)
}

/// Why a katakana name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KanaError {
    /// Nothing was entered.
    #[error("the name reading is empty")]
    Empty,
    /// Longer than `max` characters after normalisation.
    #[error("the name reading is longer than {max} characters")]
    TooLong {
        /// The maximum number of characters.
        max: usize,
    },
    /// Contains a character that is not full-width katakana even after
    /// normalisation.
    #[error("the name reading contains a character that is not katakana")]
    NotKatakana {
        /// The first offending character.
        found: String,
    },
}

impl KanaError {
    /// The stable message key.
    pub fn key(&self) -> &'static str {
        match self {
            KanaError::Empty => "kana.empty",
            KanaError::TooLong { .. } => "kana.too_long",
            KanaError::NotKatakana { .. } => "kana.not_katakana",
        }
    }

    /// The placeholder values for the message.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            KanaError::Empty => vec![],
            KanaError::TooLong { max } => vec![("max", max.to_string())],
            KanaError::NotKatakana { found } => {
                let shown = match found.chars().next() {
                    Some(c) if found.chars().count() == 1 => crate::message::display_char(c),
                    _ => found.clone(),
                };
                vec![("found", shown)]
            }
        }
    }
}

/// Normalises a name reading with [`to_fullwidth_katakana`] and checks that
/// it has 1 to 50 characters, all full-width katakana (`ァ..=ヺ`, `ー`, `ヽ`,
/// `ヾ`, `・`) or ideographic spaces. Returns the normalised name.
///
/// ```
/// use jp::kana::validate_katakana_name;
/// assert_eq!(validate_katakana_name("ﾔﾏﾀﾞ ﾀﾛｳ").unwrap(), "ヤマダ\u{3000}タロウ");
/// assert!(validate_katakana_name("山田").is_err());
/// ```
pub fn validate_katakana_name(s: &str) -> Result<String, KanaError> {
    let name = to_fullwidth_katakana(s);
    if name.is_empty() {
        return Err(KanaError::Empty);
    }
    if let Some(c) = name.chars().find(|&c| !is_name_katakana(c)) {
        return Err(KanaError::NotKatakana {
            found: c.to_string(),
        });
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(KanaError::TooLong {
            max: MAX_NAME_CHARS,
        });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiragana_to_katakana() {
        assert_eq!(to_fullwidth_katakana("あいうえお"), "アイウエオ");
        assert_eq!(to_fullwidth_katakana("ぁゖゔ"), "ァヶヴ");
        assert_eq!(to_fullwidth_katakana("ゝゞ"), "ヽヾ");
        assert_eq!(to_fullwidth_katakana("ゟ"), "ヨリ");
    }

    #[test]
    fn halfwidth_to_fullwidth_with_marks() {
        assert_eq!(to_fullwidth_katakana("ｶﾞ"), "ガ");
        assert_eq!(to_fullwidth_katakana("ﾊﾟ"), "パ");
        assert_eq!(to_fullwidth_katakana("ｳﾞ"), "ヴ");
        assert_eq!(to_fullwidth_katakana("ｰ"), "ー");
        assert_eq!(to_fullwidth_katakana("ｦﾞﾜﾞ"), "ヺヷ");
        assert_eq!(to_fullwidth_katakana("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダ\u{3000}タロウ");
        assert_eq!(to_fullwidth_katakana("ﾂﾞﾃﾞﾄﾞ"), "ヅデド");
        assert_eq!(to_fullwidth_katakana("ﾎﾟﾎﾞ"), "ポボ");
        assert_eq!(to_fullwidth_katakana("｡｢｣､･"), "。「」、・");
        // A mark that cannot be combined becomes the spacing mark.
        assert_eq!(to_fullwidth_katakana("ｱﾞ"), "ア゛");
        assert_eq!(to_fullwidth_katakana("ｶﾟ"), "カ゜");
        assert_eq!(to_fullwidth_katakana("ﾞ"), "゛");
    }

    #[test]
    fn every_voiceable_letter_composes() {
        let voiced = [
            ("カキクケコ", "ガギグゲゴ"),
            ("サシスセソ", "ザジズゼゾ"),
            ("タチツテト", "ダヂヅデド"),
            ("ハヒフヘホ", "バビブベボ"),
            ("ウワヰヱヲヽ", "ヴヷヸヹヺヾ"),
        ];
        for (base, expected) in voiced {
            let with_marks: String = base.chars().flat_map(|c| [c, '\u{3099}']).collect();
            assert_eq!(to_fullwidth_katakana(&with_marks), expected);
        }
        let with_marks: String = "ハヒフヘホ".chars().flat_map(|c| [c, '\u{309A}']).collect();
        assert_eq!(to_fullwidth_katakana(&with_marks), "パピプペポ");
        assert_eq!(to_fullwidth_katakana("ッ\u{3099}"), "ッ\u{3099}");
        assert_eq!(to_fullwidth_katakana("ナ\u{3099}"), "ナ\u{3099}");
    }

    #[test]
    fn combining_marks_after_kana() {
        assert_eq!(to_fullwidth_katakana("か\u{3099}"), "ガ");
        assert_eq!(to_fullwidth_katakana("カ\u{3099}"), "ガ");
        assert_eq!(to_fullwidth_katakana("ほ\u{309A}"), "ポ");
        assert_eq!(to_fullwidth_katakana("う\u{3099}"), "ヴ");
        assert_eq!(to_fullwidth_katakana("か゛"), "ガ");
        // Already voiced: the second mark stays.
        assert_eq!(to_fullwidth_katakana("ガ\u{3099}"), "ガ\u{3099}");
        // A mark after a space is not combined.
        assert_eq!(to_fullwidth_katakana("カ \u{3099}"), "カ\u{3000}\u{3099}");
    }

    #[test]
    fn spaces_are_collapsed_and_trimmed() {
        assert_eq!(
            to_fullwidth_katakana("  やまだ \u{3000} はなこ　"),
            "ヤマダ\u{3000}ハナコ"
        );
        assert_eq!(to_fullwidth_katakana(" \u{3000}\t"), "");
        assert_eq!(to_fullwidth_katakana(""), "");
    }

    #[test]
    fn other_characters_are_kept() {
        assert_eq!(to_fullwidth_katakana("山田😀abc"), "山田😀abc");
    }

    #[test]
    fn to_hiragana_inverts() {
        assert_eq!(to_hiragana("ヤマダ　タロウ"), "やまだ　たろう");
        assert_eq!(to_hiragana("ヴヵヶヽヾ"), "ゔゕゖゝゞ");
        assert_eq!(to_hiragana("ヷー"), "ヷー");
    }

    #[test]
    fn validate_names() {
        assert_eq!(
            validate_katakana_name("やまだ　たろう"),
            Ok("ヤマダ\u{3000}タロウ".into())
        );
        assert_eq!(
            validate_katakana_name("ｽｽﾞｷ･ｲﾁﾛｰ"),
            Ok("スズキ・イチロー".into())
        );
        assert_eq!(
            validate_katakana_name("ヴァレンタイン"),
            Ok("ヴァレンタイン".into())
        );
        assert_eq!(validate_katakana_name(""), Err(KanaError::Empty));
        assert_eq!(validate_katakana_name(" 　 "), Err(KanaError::Empty));
        assert_eq!(
            validate_katakana_name("山田"),
            Err(KanaError::NotKatakana {
                found: "山".into()
            })
        );
        assert_eq!(
            validate_katakana_name("ヤマダtaro"),
            Err(KanaError::NotKatakana { found: "t".into() })
        );
        assert_eq!(
            validate_katakana_name("ｱﾞ"),
            Err(KanaError::NotKatakana {
                found: "゛".into()
            })
        );
        let fifty = "ア".repeat(50);
        assert_eq!(validate_katakana_name(&fifty), Ok(fifty.clone()));
        assert_eq!(
            validate_katakana_name(&"あ".repeat(51)),
            Err(KanaError::TooLong { max: 50 })
        );
        // The limit counts the normalised characters: ｶﾞ is one letter.
        assert_eq!(validate_katakana_name(&"ｶﾞ".repeat(50)), Ok("ガ".repeat(50)));
        assert!(validate_katakana_name("ア\u{0007}").is_err());
    }

    #[test]
    fn invisible_offending_characters_are_shown_as_code_points() {
        let err = validate_katakana_name("ア\u{0007}").unwrap_err();
        assert_eq!(err.args(), vec![("found", "U+0007".to_string())]);
    }
}
