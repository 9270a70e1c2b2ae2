//! Users' API tokens: listing them for many users at once, choosing which
//! to revoke (a pure function of the listing, unit-tested), revoking, and
//! making one for a course bot or grader.
//!
//! The hub shows a token's text once, in the answer that creates it;
//! [`CreatedToken::token`] holds it as a [`Token`], which never prints.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::age::{cutoff, parse_time};
use super::{ApiToken, HubClient, HubError, ItemResult, ItemStatus, NewToken, Token, TokenOwner};
use crate::username;

/// Which tokens to pick; every filter given must hold (none: every token).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenFilter {
    /// Only tokens whose expiry has passed.
    pub expired: bool,
    /// Only tokens that never expire.
    pub never_expires: bool,
    /// Only tokens not used (or, never used, not made) for this long.
    pub unused_since: Option<Duration>,
}

/// The tokens of `tokens` that `filter` picks at `now`, in listing order.
pub fn select_tokens(tokens: &[ApiToken], filter: &TokenFilter, now: DateTime<Utc>) -> Vec<ApiToken> {
    let limit = filter.unused_since.map(|age| cutoff(now, age));
    tokens
        .iter()
        .filter(|t| {
            let expires = t.expires_at.as_deref().and_then(parse_time);
            let expired = expires.is_some_and(|at| at <= now);
            let never = t.expires_at.is_none();
            let used = t.last_activity.as_deref().or(t.created.as_deref()).and_then(parse_time);
            let unused = match limit {
                // A token with no readable time is picked: nobody can say it was used.
                Some(limit) => used.is_none_or(|at| at < limit),
                None => true,
            };
            (!filter.expired || expired) && (!filter.never_expires || never) && unused
        })
        .cloned()
        .collect()
}

/// A token left out of a revoke plan, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeptToken {
    /// The owner.
    pub user: String,
    /// The token's id.
    pub id: String,
    /// Its note.
    pub note: Option<String>,
    /// Why it is kept.
    pub reason: String,
}

/// Which of the picked tokens are revoked: `#{revoke, kept}` in scripts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RevokePlan {
    /// The tokens to revoke, in listing order.
    pub revoke: Vec<ApiToken>,
    /// The tokens picked but kept, with the reason.
    pub kept: Vec<KeptToken>,
}

/// Splits the picked `tokens` into those to revoke and those kept: never
/// the token jhctl runs with, nor any token of its user when the hub does
/// not say which one that is ([`TokenOwner::spares_token`]); unless named
/// by id (`by_id`), never a token from the hub's configuration (note
/// `from config`), nor a server's token (note `Server at /user/NAME/...`)
/// while its user has a server running or starting (`running`), nor a
/// token of the other users in `admins`.
pub fn plan_revoke(
    tokens: &[ApiToken],
    owner: &TokenOwner,
    admins: &HashSet<String>,
    running: &HashSet<String>,
    by_id: bool,
) -> RevokePlan {
    let mut plan = RevokePlan::default();
    for token in tokens {
        let mine = owner.user.as_deref() == Some(token.user.as_str());
        let note = token.note.as_deref().unwrap_or_default();
        let reason = owner.spares_token(&token.user, &token.id).or_else(|| {
            if by_id {
                None
            } else if note == "from config" {
                Some("from the hub's configuration: revoked only when named by id (USER/ID)".to_string())
            } else if note.starts_with("Server at ") && running.contains(&token.user) {
                Some(format!(
                    "used by `{}`'s running server: revoked only when named by id (USER/ID), or stop the server first",
                    token.user
                ))
            } else {
                (!mine && admins.contains(&token.user)).then(|| {
                    format!("`{}` is an admin: an admin's token is revoked only when named by id (USER/ID)", token.user)
                })
            }
        });
        match reason {
            Some(reason) => plan.kept.push(KeptToken {
                user: token.user.clone(),
                id: token.id.clone(),
                note: token.note.clone(),
                reason,
            }),
            None => plan.revoke.push(token.clone()),
        }
    }
    plan
}

/// A token the hub just made: its text (shown once) and its listing entry.
#[derive(Clone, Debug)]
pub struct CreatedToken {
    /// The text to authenticate with. Never printed unless asked for.
    pub token: Token,
    /// Id, note, scopes, created, expires_at.
    pub info: ApiToken,
}

/// One result of revoking: `#{name, status, error, id}` in scripts (`name` is the owner).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenResult {
    /// The owner's result.
    #[serde(flatten)]
    pub result: ItemResult,
    /// The token's id.
    pub id: String,
}

#[derive(Deserialize)]
struct TokenList {
    #[serde(default)]
    api_tokens: Vec<ApiToken>,
}

impl HubClient {
    /// Every API token of each user in `names`, listed concurrently (with a
    /// progress bar on a terminal), in the order of `names`. With
    /// `skip_missing`, a user deleted meanwhile has no tokens; without, it
    /// is an error naming it.
    pub async fn tokens(&self, names: &[String], skip_missing: bool) -> Result<Vec<ApiToken>, HubError> {
        let bar = super::progress::bar(self.progress(), names.len(), "tokens");
        let jobs = names.iter().map(|raw| {
            let bar = &bar;
            async move {
                let name = username::normalize(raw).map_err(|e| HubError::Status {
                    what: format!("tokens of `{raw}`"),
                    status: 400,
                    message: e.to_string(),
                })?;
                let path = format!("/hub/api/users/{}/tokens", Self::segment(&name));
                let reply = self.call(Method::GET, &path, &[], None).await;
                super::progress::advance(bar, 1);
                let reply = reply?;
                match reply.status.as_u16() {
                    404 if skip_missing => Ok(Vec::new()),
                    404 => Err(HubError::Status {
                        what: format!("tokens of `{name}`"),
                        status: 404,
                        message: format!("no user `{name}`; check the name with `manage-users list`"),
                    }),
                    _ if reply.ok() => {
                        let list: TokenList = serde_json::from_value(reply.body).map_err(|e| HubError::Decode {
                            what: format!("tokens of `{name}`"),
                            reason: e.to_string(),
                        })?;
                        Ok(list.api_tokens.into_iter().map(|t| ApiToken { user: name.clone(), ..t }).collect())
                    }
                    status => {
                        Err(HubError::Status { what: format!("tokens of `{name}`"), status, message: reply.message() })
                    }
                }
            }
        });
        let lists: Vec<Result<Vec<ApiToken>, HubError>> = join_all(jobs).await;
        super::progress::finish(bar);
        let mut out = Vec::new();
        for list in lists {
            out.extend(list?);
        }
        Ok(out)
    }

    /// Revokes each `(user, id)` concurrently: `deleted`, `not_found` (no
    /// such token or user) or `failed`; `planned` in a dry run. A revoked
    /// token is refused by the hub (403) from then on.
    pub async fn revoke_tokens(&self, tokens: &[(String, String)]) -> Vec<TokenResult> {
        let jobs = tokens.iter().map(|(user, id)| async move {
            let result = if self.dry_run() {
                ItemResult::new(user, ItemStatus::Planned)
            } else {
                let path = format!("/hub/api/users/{}/tokens/{}", Self::segment(user), Self::segment(id));
                self.delete_item(user.clone(), &path).await
            };
            TokenResult { result, id: id.clone() }
        });
        join_all(jobs).await
    }

    /// Makes an API token for `user` (`POST .../tokens`, sent once: never
    /// repeated, as a repeat would make a second token). `Ok(None)` in a
    /// dry run. The user's tokens are listed first: a user that does not
    /// exist is an error saying so (404) before anything is sent, and when
    /// the answer is lost the listing tells whether the hub made a token
    /// ([`HubClient::token_read_back`]).
    pub async fn create_token(&self, user: &str, new: &NewToken) -> Result<Option<CreatedToken>, HubError> {
        let what = format!("create a token for `{}`", user.trim());
        let user = username::normalize(user).map_err(|e| HubError::Status {
            what: what.clone(),
            status: 400,
            message: e.to_string(),
        })?;
        let before = self.tokens(std::slice::from_ref(&user), false).await.map_err(|e| match e {
            HubError::Status { status: 404, message, .. } => {
                HubError::Status { what: what.clone(), status: 404, message }
            }
            other => other,
        })?;
        if self.dry_run() {
            return Ok(None);
        }
        let note = new.note.clone().unwrap_or_else(|| "made by jhctl".into());
        let mut body = json!({ "note": note });
        if !new.scopes.is_empty() {
            body["scopes"] = json!(new.scopes);
        }
        if let Some(life) = new.expires_in {
            body["expires_in"] = json!(life.as_secs());
        }
        let path = format!("/hub/api/users/{}/tokens", Self::segment(&user));
        let reply = match self.call_once(Method::POST, &path, Some(&body)).await {
            Err(HubError::Unknown { reason, .. }) => {
                return Err(self.token_read_back(&user, &before, &note, &reason).await)
            }
            other => other?,
        };
        if !reply.ok() {
            return Err(HubError::Status { what, status: reply.status.as_u16(), message: reply.message() });
        }
        let text = reply.body.get("token").and_then(Value::as_str).map(Token::new);
        let info: Result<ApiToken, _> = serde_json::from_value(reply.body);
        match (text, info) {
            (Some(token), Ok(info)) => Ok(Some(CreatedToken { token, info: ApiToken { user, ..info } })),
            _ => Err(HubError::Decode { what, reason: "the answer holds no token".into() }),
        }
    }

    /// After the answer to a token's creation was lost: the user's tokens
    /// now, against `before`. A new token with `note` is one whose text
    /// nobody has (it was only in the lost answer): it is revoked, so no
    /// stray token is left, and the error says to run again. When that
    /// cannot be settled, the error is [`HubError::Unknown`] saying what
    /// to check.
    async fn token_read_back(&self, user: &str, before: &[ApiToken], note: &str, reason: &str) -> HubError {
        let unknown =
            |check: String| HubError::Unknown { url: self.url().to_string(), reason: format!("{reason}; {check}") };
        let look =
            format!("look with `manage-users tokens list {user}` and revoke a token noted `{note}` that nobody holds");
        let now = match self.tokens(&[user.to_string()], false).await {
            Ok(now) => now,
            Err(e) => return unknown(format!("its tokens cannot be read back ({e}); {look}")),
        };
        let known: HashSet<&str> = before.iter().map(|t| t.id.as_str()).collect();
        let made: Vec<&ApiToken> =
            now.iter().filter(|t| !known.contains(t.id.as_str()) && t.note.as_deref() == Some(note)).collect();
        match made.as_slice() {
            [] => unknown(format!("no new token of `{user}` shows yet, but the hub may still make it; {look}")),
            [token] => {
                let path = format!("/hub/api/users/{}/tokens/{}", Self::segment(user), Self::segment(&token.id));
                let revoked = self.delete_item(user.to_string(), &path).await;
                match revoked.status {
                    ItemStatus::Deleted | ItemStatus::NotFound => HubError::Undone {
                        what: format!("create a token for `{user}`"),
                        reason: format!(
                            "the hub made token {} but its answer, the only place its text is shown, was lost \
                             ({reason}); jhctl revoked that token, so none is left over",
                            token.id
                        ),
                    },
                    _ => unknown(format!(
                        "the hub made token {id} but its text was lost, and revoking it failed; revoke it with \
                         `manage-users tokens revoke {user}/{id}`",
                        id = token.id
                    )),
                }
            }
            many => {
                let ids: Vec<&str> = many.iter().map(|t| t.id.as_str()).collect();
                unknown(format!("`{user}` has {} new tokens noted `{note}` ({}); {look}", ids.len(), ids.join(", ")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        parse_time("2026-06-30T00:00:00Z").unwrap()
    }

    fn ago(days: i64) -> Option<String> {
        Some((now() - chrono::Duration::days(days)).to_rfc3339())
    }

    /// A token made 200 days ago, expiring `expires` days from now, used `used` days ago.
    fn token(id: &str, expires: Option<i64>, used: Option<i64>) -> ApiToken {
        ApiToken {
            user: "u".into(),
            id: id.into(),
            created: ago(200),
            expires_at: expires.and_then(|d| ago(-d)),
            last_activity: used.and_then(ago),
            ..ApiToken::default()
        }
    }

    #[test]
    fn filters_pick_tokens_and_combine() {
        let tokens = [
            token("never-used", None, None),
            token("fresh", None, Some(1)),
            token("expiring", Some(10), Some(100)),
            token("expired", Some(-1), Some(120)),
        ];
        let day = |d: u64| Some(Duration::from_secs(d * 86_400));
        // (filter, picked ids)
        let cases: Vec<(TokenFilter, Vec<&str>)> = vec![
            (TokenFilter::default(), vec!["never-used", "fresh", "expiring", "expired"]),
            (TokenFilter { expired: true, ..TokenFilter::default() }, vec!["expired"]),
            (TokenFilter { never_expires: true, ..TokenFilter::default() }, vec!["never-used", "fresh"]),
            (
                TokenFilter { unused_since: day(90), ..TokenFilter::default() },
                vec!["never-used", "expiring", "expired"],
            ),
            (TokenFilter { unused_since: day(110), ..TokenFilter::default() }, vec!["never-used", "expired"]),
            (TokenFilter { unused_since: day(90), never_expires: true, ..TokenFilter::default() }, vec!["never-used"]),
            (TokenFilter { unused_since: day(300), ..TokenFilter::default() }, vec![]),
        ];
        for (filter, ids) in cases {
            let picked: Vec<String> = select_tokens(&tokens, &filter, now()).into_iter().map(|t| t.id).collect();
            assert_eq!(picked, ids, "{filter:?}");
        }
    }

    fn owned(user: &str, id: &str) -> ApiToken {
        ApiToken { user: user.into(), id: id.into(), ..ApiToken::default() }
    }

    // Issue #26: the token in use is never revoked (on JupyterHub 4.1 none
    // of its user's tokens), and other admins' tokens only when named by id.
    #[test]
    fn revoke_plans_spare_the_token_in_use_and_other_admins() {
        let tokens = [owned("boss", "a1"), owned("boss", "a2"), owned("dean", "a3"), owned("stu", "a4")];
        let admins: HashSet<String> = ["boss", "dean"].map(String::from).into();
        let plan = |user: Option<&str>, id: Option<&str>, by_id| {
            let owner = TokenOwner { user: user.map(String::from), token_id: id.map(String::from) };
            let plan = plan_revoke(&tokens, &owner, &admins, &HashSet::new(), by_id);
            let ids = |list: Vec<String>| list.join(",");
            (
                ids(plan.revoke.iter().map(|t| t.id.clone()).collect()),
                ids(plan.kept.iter().map(|t| t.id.clone()).collect()),
            )
        };
        let both = |revoke: &str, kept: &str| (revoke.to_string(), kept.to_string());
        // JupyterHub 5+: the token in use is known.
        assert_eq!(plan(Some("boss"), Some("a1"), false), both("a2,a4", "a1,a3"));
        assert_eq!(plan(Some("boss"), Some("a1"), true), both("a2,a3,a4", "a1"));
        // JupyterHub 4.1: it is not, so none of boss's tokens.
        assert_eq!(plan(Some("boss"), None, false), both("a4", "a1,a2,a3"));
        assert_eq!(plan(Some("boss"), None, true), both("a3,a4", "a1,a2"));
        // A service's token is not listed among users' tokens.
        assert_eq!(plan(None, Some("s1"), false), both("a4", "a1,a2,a3"));
        assert_eq!(plan(None, None, true), both("a1,a2,a3,a4", ""));
    }

    // Issue #28: `tokens revoke --never-expires` planned to revoke the
    // tokens of running servers and the token from the hub's config.
    #[test]
    fn revoke_plans_keep_server_and_config_tokens_unless_named_by_id() {
        let noted = |user: &str, id: &str, note: &str| ApiToken { note: Some(note.into()), ..owned(user, id) };
        let tokens = [
            noted("ann", "t1", "Server at /user/ann/"),
            noted("bob", "t2", "Server at /user/bob/"),
            noted("ann", "t3", "from config"),
            noted("ann", "t4", "grading"),
            noted("ann", "t5", "Server at /user/ann/gpu/"),
        ];
        let running: HashSet<String> = ["ann"].map(String::from).into();
        let owner = TokenOwner { user: Some("root".into()), token_id: Some("r1".into()) };
        // (by id, revoked, kept)
        let cases = [(false, "t2,t4", "t1,t3,t5"), (true, "t1,t2,t3,t4,t5", "")];
        for (by_id, revoked, kept) in cases {
            let plan = plan_revoke(&tokens, &owner, &HashSet::new(), &running, by_id);
            let ids = |list: Vec<String>| list.join(",");
            assert_eq!(ids(plan.revoke.iter().map(|t| t.id.clone()).collect()), revoked, "{by_id}");
            assert_eq!(ids(plan.kept.iter().map(|t| t.id.clone()).collect()), kept, "{by_id}");
        }
        let plan = plan_revoke(&tokens, &owner, &HashSet::new(), &running, false);
        assert!(plan.kept[0].reason.starts_with("used by `ann`'s running server"), "{:?}", plan.kept);
        assert!(plan.kept[1].reason.starts_with("from the hub's configuration"), "{:?}", plan.kept);
    }

    #[test]
    fn a_token_without_readable_times_counts_as_unused() {
        let odd = ApiToken { id: "odd".into(), created: Some("then".into()), ..ApiToken::default() };
        let filter = TokenFilter { unused_since: Some(Duration::from_secs(60)), ..TokenFilter::default() };
        assert_eq!(select_tokens(&[odd], &filter, now()).len(), 1);
    }
}
