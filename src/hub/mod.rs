//! The JupyterHub client: the REST API and the hub's admin API. Async,
//! no Rhai in here.

mod admin_api;
mod age;
mod client;
mod delete_guard;
mod error;
mod existing;
mod groups;
mod interrupt;
mod item_result;
mod lease;
mod limiter;
mod listing;
mod model;
mod named_servers;
mod progress;
mod prune_plan;
mod recheck;
mod retry;
mod servers;
mod sync_apply;
mod sync_plan;
mod tls;
mod token;
mod token_owner;
mod tokens;
mod user_records;
mod users;

pub use admin_api::{
    password_problem, PasswordRow, QuotaAction, QuotaEntry, QuotaRow, MIN_PASSWORD_LENGTH, QUOTA_BATCH_MAX, QUOTA_LIMIT,
};
pub use age::{parse_duration, parse_time};
pub use client::{HubClient, HubConfig, DEFAULT_CONCURRENCY};
pub use delete_guard::{check_delete_share, check_group_filter, check_prune_roster, delete_share, GUARD_FLOOR};
pub use error::HubError;
pub use interrupt::{in_flight, request_stop, stop_requested};
pub use item_result::{ItemResult, ItemStatus};
pub use lease::{
    expiry as lease_expiry, judge as judge_lease, Finding, LeaseInfo, Refusal, Taken, LEASE_GROUP, LEASE_TTL,
};
pub use listing::PAGE_SIZE;
pub use model::{ApiToken, Group, NewToken, NewUser, Server, ServerRow, User, UserQuery};
pub use named_servers::{plan_server_prune, recheck_server, server_rows, ServerPlan};
pub use prune_plan::{plan_prune, recheck_prune, PruneCandidate, PruneOptions, PrunePlan};
pub use recheck::Recheck;
pub use sync_apply::{SyncAction, SyncResult};
pub use sync_plan::{
    plan_sync, recheck_sync_delete, AdminChange, GroupChange, Kept, PlannedUser, SyncOptions, SyncPlan, SyncRow,
};
pub use tls::{install_crypto, CaBundle, CaOrigin};
pub use token::Token;
pub use token_owner::TokenOwner;
pub use tokens::{plan_revoke, select_tokens, CreatedToken, KeptToken, RevokePlan, TokenFilter, TokenResult};
pub use user_records::Leftover;
