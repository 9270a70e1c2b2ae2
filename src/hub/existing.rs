//! Which of a batch's names are users of the hub right now: one listing,
//! narrowed to the names' common prefix (rosters share one, like `student`).
//!
//! A create batch reads it before sending, so that a user this run created
//! is `created` even when the hub's answer was lost; password and quota
//! batches read it so that a typo fails its row instead of making a stray
//! record. [`HubClient::lookalike_users`] reads every user, for names that
//! look like one of a batch's but are not it.

use std::collections::HashSet;

use super::{HubClient, HubError, UserQuery};

impl HubClient {
    /// The names among `names` (normalised) that are users of the hub.
    pub async fn existing_names(&self, names: &[String]) -> Result<HashSet<String>, HubError> {
        if names.is_empty() {
            return Ok(HashSet::new());
        }
        let prefix = common_prefix(names);
        let query = UserQuery { name_filter: (!prefix.is_empty()).then_some(prefix), ..UserQuery::default() };
        let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
        let users = self.users(&query).await?;
        Ok(users.into_iter().map(|u| u.name).filter(|n| wanted.contains(n.as_str())).collect())
    }
}

impl HubClient {
    /// Groups of names that look the same ([`crate::username::lookalikes`])
    /// where one of `names` looks like a user of the hub that is not among
    /// `names` (`ann` to create, `ann\u{200b}` on the hub): one listing of
    /// every user. Lookalikes within `names` alone are the roster's to
    /// report.
    pub async fn lookalike_users(&self, names: &[String]) -> Result<Vec<Vec<String>>, HubError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let users = self.users(&UserQuery::default()).await?;
        let ours: HashSet<&str> = names.iter().map(String::as_str).collect();
        let hub_names = users.iter().map(|u| u.name.as_str());
        let groups = crate::username::lookalikes(names.iter().map(String::as_str), hub_names);
        Ok(groups.into_iter().filter(|group| group.iter().any(|name| !ours.contains(name.as_str()))).collect())
    }
}

/// The longest prefix that every name starts with (whole characters).
fn common_prefix(names: &[String]) -> String {
    let first = &names[0];
    let mut end = first.len();
    for name in &names[1..] {
        end = first[..end].char_indices().zip(name.chars()).take_while(|((_, a), b)| a == b).count();
        end = first.char_indices().nth(end).map_or(first.len(), |(i, _)| i).min(first.len());
    }
    first[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn prefix_of_a_roster() {
        assert_eq!(common_prefix(&names(&["student01", "student02", "student10"])), "student");
        assert_eq!(common_prefix(&names(&["alice", "bob"])), "");
        assert_eq!(common_prefix(&names(&["jörg1", "jörg2"])), "jörg");
        assert_eq!(common_prefix(&names(&["ab", "abc"])), "ab");
        assert_eq!(common_prefix(&names(&["solo"])), "solo");
    }
}
