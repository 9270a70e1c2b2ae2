//! Who owns the token jhctl runs with, and the guards that keep a run from
//! locking itself out: the token's own user is never deleted or demoted,
//! and the token in use is never revoked.
//!
//! `GET /hub/api/user` says which of its user's tokens is in use
//! (`token_id`) only from JupyterHub 5.0 on (docs/hub-api.md). On 4.1
//! nothing tells it apart from the user's other tokens, so then none of
//! that user's tokens is revoked.

use std::future::Future;

use serde_json::Value;

use super::{HubClient, HubError, ItemResult};
use crate::username;

/// The owner of the token jhctl runs with, from `GET /hub/api/user`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenOwner {
    /// The user that owns the token; `None` for a service's token.
    pub user: Option<String>,
    /// The token's id, when the hub says it (JupyterHub 5.0 and later).
    pub token_id: Option<String>,
}

impl TokenOwner {
    /// Reads the model `GET /hub/api/user` answers.
    pub fn from_model(model: &Value) -> TokenOwner {
        let field = |k: &str| model.get(k).and_then(Value::as_str).map(str::to_string);
        let user = (field("kind").as_deref() == Some("user")).then(|| field("name")).flatten();
        TokenOwner { user, token_id: field("token_id") }
    }

    /// Why user `name` must not be deleted or lose its admin flag: it owns
    /// the token jhctl runs with. `None` for every other user.
    pub fn spares_user(&self, name: &str) -> Option<String> {
        let owner = self.user.as_deref()?;
        let name = username::normalize(name).ok()?;
        (name == owner).then(|| {
            format!(
                "`{owner}` owns the token jhctl runs with, so it is never deleted or demoted here \
                 (that would lock this run out); use another admin's token for it"
            )
        })
    }

    /// Why token `id` of `user` must not be revoked: it is the token jhctl
    /// runs with, or the hub does not say which of this user's tokens that
    /// is (JupyterHub before 5.0). `None` when it may be revoked.
    pub fn spares_token(&self, user: &str, id: &str) -> Option<String> {
        let owner = self.user.as_deref()?;
        if username::normalize(user).ok()?.as_str() != owner {
            return None;
        }
        match &self.token_id {
            Some(mine) if mine == id => {
                Some("this is the token jhctl runs with; revoke it with another admin's token".to_string())
            }
            Some(_) => None,
            None => Some(format!(
                "jhctl runs with a token of `{owner}` and this hub does not say which one (JupyterHub before 5.0 \
                 gives no `token_id`), so it revokes none of `{owner}`'s tokens; revoke them with another admin's \
                 token"
            )),
        }
    }
}

impl HubClient {
    /// Who owns the token jhctl runs with (`GET /hub/api/user`).
    pub async fn token_owner(&self) -> Result<TokenOwner, HubError> {
        Ok(TokenOwner::from_model(&self.whoami().await?))
    }

    /// Runs `job` on `names` without the token's own user, whose result is
    /// `failed` with the reason ([`TokenOwner::spares_user`]). `job`'s
    /// results are keyed by the index of the names it got; the results
    /// returned are keyed by the index in `names`.
    pub async fn sparing_owner<F, Fut>(&self, names: &[String], job: F) -> Result<Vec<ItemResult>, HubError>
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: Future<Output = Vec<ItemResult>>,
    {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let owner = self.token_owner().await?;
        let (sent, spared) = spare_owner(names, &owner);
        let send: Vec<String> = sent.iter().map(|&i| names[i].clone()).collect();
        let mut results: Vec<ItemResult> = job(send)
            .await
            .into_iter()
            .map(|r| {
                let id = sent[r.id];
                r.of(id)
            })
            .collect();
        results.extend(spared);
        Ok(results)
    }

    /// Deletes users concurrently as [`HubClient::delete_users`] does, but
    /// never the token's own user (`failed`, also in a dry run).
    pub async fn delete_users_but_owner(&self, names: &[String]) -> Result<Vec<ItemResult>, HubError> {
        self.sparing_owner(names, |names| async move { self.delete_users(&names).await }).await
    }

    /// Sets admin flags as [`HubClient::set_admin`] does; revoking never
    /// touches the token's own user (`failed`, also in a dry run).
    pub async fn set_admin_but_owner(&self, names: &[String], admin: bool) -> Result<Vec<ItemResult>, HubError> {
        if admin {
            return Ok(self.set_admin(names, true).await);
        }
        self.sparing_owner(names, |names| async move { self.set_admin(&names, false).await }).await
    }
}

/// The indexes of `names` to send, and `failed` results (keyed by index)
/// for the token's own user.
fn spare_owner(names: &[String], owner: &TokenOwner) -> (Vec<usize>, Vec<ItemResult>) {
    let mut sent = Vec::new();
    let mut spared = Vec::new();
    for (i, raw) in names.iter().enumerate() {
        match owner.spares_user(raw) {
            Some(why) => spared.push(ItemResult::failed(raw.trim().to_lowercase(), why).of(i)),
            None => sent.push(i),
        }
    }
    (sent, spared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owner(user: Option<&str>, token_id: Option<&str>) -> TokenOwner {
        TokenOwner { user: user.map(str::to_string), token_id: token_id.map(str::to_string) }
    }

    #[test]
    fn the_owner_is_read_from_the_hub_s_model() {
        let v5 = json!({ "kind": "user", "name": "boss", "token_id": "a7", "admin": true });
        assert_eq!(TokenOwner::from_model(&v5), owner(Some("boss"), Some("a7")));
        let v4 = json!({ "kind": "user", "name": "boss", "admin": true });
        assert_eq!(TokenOwner::from_model(&v4), owner(Some("boss"), None));
        let service = json!({ "kind": "service", "name": "jhctl", "token_id": "s1" });
        assert_eq!(TokenOwner::from_model(&service), owner(None, Some("s1")));
    }

    // Issue #26: on JupyterHub 4.1 the hub does not say which token is in
    // use, so none of its user's tokens may be revoked.
    #[test]
    fn which_tokens_are_spared() {
        // (owner, token's user, token id, spared)
        let cases = [
            (owner(Some("boss"), Some("a7")), "boss", "a7", true),
            (owner(Some("boss"), Some("a7")), " Boss ", "a7", true),
            (owner(Some("boss"), Some("a7")), "boss", "a8", false),
            (owner(Some("boss"), Some("a7")), "ann", "a7", false),
            (owner(Some("boss"), None), "boss", "a8", true),
            (owner(Some("boss"), None), "ann", "a9", false),
            (owner(None, Some("s1")), "boss", "s1", false),
            (owner(None, None), "boss", "a1", false),
        ];
        for (who, user, id, spared) in cases {
            assert_eq!(who.spares_token(user, id).is_some(), spared, "{who:?} {user}/{id}");
        }
        let why = owner(Some("boss"), None).spares_token("boss", "a8").unwrap();
        assert!(why.contains("does not say which one"), "{why}");
    }

    // Issue #26: `delete` and `set-admin --revoke` never touch the token's own user.
    #[test]
    fn the_owner_is_never_sent_for_delete_or_demotion() {
        let names: Vec<String> = ["ann", "BOSS", "bob", "bad name"].map(String::from).to_vec();
        let (sent, spared) = spare_owner(&names, &owner(Some("boss"), None));
        assert_eq!(sent, [0, 2, 3]);
        assert_eq!(spared.len(), 1);
        assert_eq!((spared[0].id, spared[0].name.as_str()), (1, "boss"));
        assert!(spared[0].error.as_deref().unwrap().contains("owns the token jhctl runs with"));
        let (sent, spared) = spare_owner(&names, &owner(None, Some("s1")));
        assert_eq!((sent.len(), spared.len()), (4, 0));
    }
}
