//! The module's state: the platform and the procedures module it works on.

use platform::Platform;
use procedures::Procedures;

#[derive(Clone, Debug)]
pub struct Backoffice {
    pub platform: Platform,
    pub procedures: Procedures,
}
