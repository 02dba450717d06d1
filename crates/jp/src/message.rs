//! How errors reach people: the [`Localized`] trait every error type of the
//! crate implements, and how a character is shown inside a message.

/// An error that can be shown to a resident through the message catalogues.
///
/// Every error type in this crate also has inherent `key()` and `args()`
/// methods with the same meaning; this trait lets callers handle them
/// generically.
pub trait Localized {
    /// The stable message key, e.g. `"date.invalid_format"`.
    fn key(&self) -> &'static str;
    /// The named placeholder values used in the message for [`Self::key`].
    fn args(&self) -> Vec<(&'static str, String)>;
}

/// Shows a character for a message: printable characters as themselves,
/// invisible ones (controls, whitespace, combining marks, format
/// characters) as `U+XXXX`.
pub(crate) fn display_char(c: char) -> String {
    let invisible = c.is_control()
        || c.is_whitespace()
        || matches!(c as u32,
            0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF
            | 0x3099 | 0x309A | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F
            | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF
            | 0xE0000..=0xE007F | 0xE0100..=0xE01EF);
    if invisible {
        format!("U+{:04X}", c as u32)
    } else {
        c.to_string()
    }
}
