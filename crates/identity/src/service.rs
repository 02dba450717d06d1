//! The identity module's state and use cases: starting a sign-in at a
//! provider, completing it when the person comes back (on any node),
//! finishing a sign-in that has no account yet, and the resident's linked
//! identities. No HTTP types: the web layer translates.

pub mod client;
pub mod error;
pub mod signin;
pub mod state;

pub use error::{FinishError, SignInError};
pub use signin::{
    Begin, Callback, Completed, Finish, PendingView, UnlinkError, begin, complete, finish,
    identities, pending, unlink,
};
pub use state::{Identity, ProviderState};
