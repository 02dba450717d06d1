//! The module's state: the platform (its database and the organisations'
//! cache) is all the plans need.

use platform::Platform;

/// The module's state.
#[derive(Clone, Debug)]
pub struct Plans {
    pub platform: Platform,
}
