//! The JupyterHub client: the REST API and the hub's admin API. Async,
//! no Rhai in here.

mod admin_api;
mod client;
mod error;
mod existing;
mod groups;
mod item_result;
mod limiter;
mod listing;
mod model;
mod progress;
mod retry;
mod servers;
mod token;
mod users;

pub use admin_api::{PasswordRow, QuotaAction, QuotaEntry, QuotaRow, QUOTA_BATCH_MAX, QUOTA_LIMIT};
pub use client::{HubClient, HubConfig, DEFAULT_CONCURRENCY};
pub use error::HubError;
pub use item_result::{ItemResult, ItemStatus};
pub use listing::PAGE_SIZE;
pub use model::{Group, NewUser, Server, User, UserQuery};
pub use token::Token;
