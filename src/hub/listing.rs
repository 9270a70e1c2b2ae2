//! Listings that take every page: users and groups.
//!
//! The hub serves a listing one page at a time. Its page size is its own
//! setting (`api_page_max_limit`: 200 by default, but a hub may serve 50),
//! so jhctl asks for [`PAGE_SIZE`] and takes what the hub says it served:
//! the first page's `_pagination` gives the `limit` in force, the `total`
//! and the `next` offset. The remaining pages are fetched concurrently from
//! the offsets the first page implies (or one after another by `next` when
//! the hub gives no `total`). At the end the count is checked against
//! `total`: a listing with fewer distinct entries than the hub said it has
//! ([`HubError::ShortListing`]) or whose `total` changed between pages
//! ([`HubError::ListingChanged`]) is an error, never a short list handed
//! back as complete.
//!
//! A gateway may drop the `Accept` header; the hub then answers with a plain
//! list cut at one page (the `limit` asked for, or its own lower maximum),
//! with no `total`. Such a list is read on by `offset` until a page comes
//! back shorter than the first, empty, or holding only entries already
//! seen (a hub that ignores `offset` sent everything at once).

use std::collections::HashSet;

use futures::future::join_all;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::client::HubClient;
use super::{Group, HubError, User, UserQuery};

/// The most entries jhctl asks for in one page: the hub's default
/// `api_page_max_limit`. A hub configured lower serves fewer, and the
/// listing follows what it served.
pub const PAGE_SIZE: usize = 200;

const PAGINATION: &str = "application/jupyterhub-pagination+json";

/// One page as the hub sent it.
#[derive(Debug)]
pub(crate) struct Page<T> {
    /// The entries of this page.
    pub(crate) items: Vec<T>,
    /// `_pagination.limit`: the page size the hub applied.
    pub(crate) limit: Option<usize>,
    /// `_pagination.total`: how many entries the whole listing has.
    pub(crate) total: Option<usize>,
    /// `_pagination.next.offset`: where the next page starts; `None` on the last page.
    pub(crate) next: Option<usize>,
    /// True when the hub sent a plain list (no `_pagination` at all).
    pub(crate) unpaged: bool,
}

/// What the first page says about the rest of a listing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The first page was all there is.
    Done,
    /// Fetch these offsets (concurrently); the listing has `total` entries.
    Offsets(Vec<usize>),
    /// No `total`: follow `next` one page at a time from this offset.
    FollowNext(usize),
    /// A plain list of this many entries (no `_pagination`): maybe cut at
    /// one page, so read on by offset ([`read_on`]).
    ReadOn(usize),
}

/// After a page of a plain listing: the offset of the next page to read,
/// or `None` when the listing is whole. `page_size` is the first page's
/// length (the hub cuts every page at the same size), `got` this page's
/// length, `new` how many of its entries were not seen before.
pub(crate) fn read_on(page_size: usize, offset: usize, got: usize, new: usize) -> Option<usize> {
    // A short or empty page is the last; a page of entries seen already
    // comes from a hub that ignores `offset` and sent all at once.
    (got >= page_size && got > 0 && new > 0).then_some(offset + got)
}

/// Plans the pages after `first`. The page size is what the hub served:
/// its `limit`, or the entries it sent if fewer (a hub may cap below the
/// limit it reports); never an assumed 200.
pub(crate) fn plan<T>(first: &Page<T>) -> Plan {
    let served = first.items.len();
    let step = first.limit.map_or(served, |limit| limit.min(served));
    match (first.total, first.next) {
        _ if first.unpaged && served == 0 => Plan::Done,
        _ if first.unpaged => Plan::ReadOn(served),
        (Some(total), _) if served >= total => Plan::Done,
        // More entries than served, but an empty page: no offsets can reach
        // them. The count check reports the listing short.
        (Some(_), _) if step == 0 => Plan::Done,
        (Some(total), _) => Plan::Offsets((served..total).step_by(step).collect()),
        (None, Some(next)) => Plan::FollowNext(next),
        (None, None) => Plan::Done,
    }
}

/// Reads one page body: `{items, _pagination}` or, from a hub that does not
/// page, a plain list.
pub(crate) fn parse_page<T: DeserializeOwned>(what: &str, body: Value) -> Result<Page<T>, HubError> {
    let decode = |reason: String| HubError::Decode { what: format!("list {what}"), reason };
    let (items, pagination, unpaged) = match body {
        Value::Object(mut map) => {
            let items = map.remove("items").ok_or_else(|| decode("a page without `items`".into()))?;
            (items, map.remove("_pagination").unwrap_or(Value::Null), false)
        }
        list @ Value::Array(_) => (list, Value::Null, true),
        other => return Err(decode(format!("expected a page, got {other}"))),
    };
    let items: Vec<T> = serde_json::from_value(items).map_err(|e| decode(e.to_string()))?;
    let number = |value: &Value| value.as_u64().map(|n| n as usize);
    Ok(Page {
        items,
        limit: number(&pagination["limit"]),
        total: number(&pagination["total"]),
        next: number(&pagination["next"]["offset"]),
        unpaged,
    })
}

/// Keeps one entry per name (pages read while the listing shifts can
/// overlap) and checks the count against the hub's `total`.
pub(crate) fn complete<T>(
    what: &str,
    total: Option<usize>,
    items: Vec<T>,
    name: impl Fn(&T) -> &str,
) -> Result<Vec<T>, HubError> {
    let mut seen = HashSet::new();
    let mut distinct = Vec::with_capacity(items.len());
    for item in items {
        if seen.insert(name(&item).to_string()) {
            distinct.push(item);
        }
    }
    match total {
        Some(total) if distinct.len() < total => {
            Err(HubError::ShortListing { what: what.to_string(), total, got: distinct.len() })
        }
        Some(total) if distinct.len() > total => {
            Err(HubError::ListingChanged { what: what.to_string(), first: total, now: distinct.len() })
        }
        _ => Ok(distinct),
    }
}

impl HubClient {
    /// Every user matching `query`, all pages; fails with
    /// [`HubError::ShortListing`] or [`HubError::ListingChanged`] rather
    /// than return fewer users than the hub has.
    pub async fn users(&self, query: &UserQuery) -> Result<Vec<User>, HubError> {
        let mut params = Vec::new();
        if let Some(f) = &query.name_filter {
            params.push(("name_filter", f.clone()));
        }
        if let Some(s) = &query.state {
            params.push(("state", s.clone()));
        }
        // Sorted here, not by the hub: hubs before 5.0 ignore `sort`, and
        // asking the hub's version would cost a round trip. The pages come
        // in creation order, the steadiest while users are added.
        let sort = match &query.sort {
            Some(s) => Some(SortKey::parse(s).ok_or_else(|| HubError::BadSort(s.clone()))?),
            None => None,
        };
        if query.include_stopped_servers {
            params.push(("include_stopped_servers", "1".into()));
        }
        let mut users = self.list_all::<User>("users", "/hub/api/users", &params).await?;
        if let Some(key) = sort {
            key.sort(&mut users);
        }
        Ok(users)
    }

    /// Every group with its members, all pages; fails like [`HubClient::users`].
    /// jhctl's lease ([`super::LEASE_GROUP`]) is no group of the admin's:
    /// it is left out, so no listing shows it and no sync plan touches it.
    pub async fn groups(&self) -> Result<Vec<Group>, HubError> {
        let mut groups = self.list_all::<Group>("groups", "/hub/api/groups", &[]).await?;
        groups.retain(|g| g.name != super::LEASE_GROUP);
        Ok(groups)
    }

    /// Every entry of the listing at `path`.
    async fn list_all<T: DeserializeOwned + Named>(
        &self,
        what: &str,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Vec<T>, HubError> {
        let first: Page<T> = self.page(what, path, params, 0).await?;
        let total = first.total;
        let plan = plan(&first);
        let mut items = first.items;
        match plan {
            Plan::Done => {}
            Plan::Offsets(offsets) => {
                let pages = join_all(offsets.iter().map(|&offset| self.page::<T>(what, path, params, offset))).await;
                for page in pages {
                    let page = page?;
                    if let (Some(first), Some(now)) = (total, page.total) {
                        if first != now {
                            return Err(HubError::ListingChanged { what: what.to_string(), first, now });
                        }
                    }
                    items.extend(page.items);
                }
            }
            Plan::ReadOn(page_size) => {
                let mut seen: HashSet<String> = items.iter().map(|i| i.name().to_string()).collect();
                let mut offset = Some(page_size);
                while let Some(at) = offset {
                    let page = self.page::<T>(what, path, params, at).await?;
                    let got = page.items.len();
                    let new = page.items.iter().filter(|i| seen.insert(i.name().to_string())).count();
                    items.extend(page.items);
                    offset = read_on(page_size, at, got, new);
                }
            }
            Plan::FollowNext(mut offset) => loop {
                let page = self.page::<T>(what, path, params, offset).await?;
                let empty = page.items.is_empty();
                items.extend(page.items);
                match page.next {
                    Some(next) if !empty && next > offset => offset = next,
                    _ => break,
                }
            },
        }
        complete(what, total, items, Named::name)
    }

    /// One page of a listing from `offset`.
    async fn page<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        params: &[(&str, String)],
        offset: usize,
    ) -> Result<Page<T>, HubError> {
        let mut query = vec![("offset", offset.to_string()), ("limit", PAGE_SIZE.to_string())];
        query.extend(params.iter().cloned());
        let reply = self.call_with(Method::GET, path, &query, None, Some(PAGINATION)).await?;
        if !reply.ok() {
            return Err(HubError::Status {
                what: format!("list {what}"),
                status: reply.status.as_u16(),
                message: reply.message(),
            });
        }
        parse_page(what, reply.body)
    }
}

/// How to order a user listing, as the hub's `sort` parameter says it:
/// `id`, `name` or `last_activity`, a leading `-` for descending. jhctl
/// sorts the whole listing itself, the same on every hub version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SortKey {
    field: SortField,
    descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortField {
    Id,
    Name,
    LastActivity,
}

impl SortKey {
    /// Reads `name`, `-last_activity`...; `None` for a key the hub would refuse.
    pub(crate) fn parse(text: &str) -> Option<SortKey> {
        let (descending, field) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let field = match field {
            "id" => SortField::Id,
            "name" => SortField::Name,
            "last_activity" => SortField::LastActivity,
            _ => return None,
        };
        Some(SortKey { field, descending })
    }

    /// Sorts `users` (listed by creation, as a hub without `sort` lists
    /// them) as a 5.x hub does: never-active users first when ascending and
    /// last when descending, ties by name.
    pub(crate) fn sort(self, users: &mut [User]) {
        match self.field {
            // Creation order is the order the hub listed them in.
            SortField::Id => {}
            SortField::Name => users.sort_by(|a, b| a.name.cmp(&b.name)),
            SortField::LastActivity => users.sort_by(|a, b| {
                // `None` sorts before any time.
                a.last_activity.cmp(&b.last_activity).then_with(|| a.name.cmp(&b.name))
            }),
        }
        if self.descending {
            users.reverse();
        }
    }
}

/// An entry of a listing, known by its name.
pub(crate) trait Named {
    /// The name that identifies the entry.
    fn name(&self) -> &str;
}

impl Named for User {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for Group {
    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(from: usize, count: usize) -> Vec<Value> {
        (from..from + count).map(|i| json!({ "name": format!("u{i:03}") })).collect()
    }

    fn page(offset: usize, count: usize, limit: usize, total: usize) -> Page<User> {
        let next = (offset + count < total).then(|| json!({ "offset": offset + count, "limit": limit }));
        let body = json!({
            "items": names(offset, count),
            "_pagination": { "offset": offset, "limit": limit, "total": total, "next": next },
        });
        parse_page("users", body).unwrap()
    }

    #[test]
    fn pages_follow_the_hubs_page_size() {
        // A hub serving 50 a page though 200 were asked for.
        assert_eq!(plan(&page(0, 50, 50, 303)), Plan::Offsets(vec![50, 100, 150, 200, 250, 300]));
        // The default: 200 a page.
        assert_eq!(plan(&page(0, 200, 200, 303)), Plan::Offsets(vec![200]));
        // A hub reporting 200 but serving 30.
        assert_eq!(plan(&page(0, 30, 200, 70)), Plan::Offsets(vec![30, 60]));
        assert_eq!(plan(&page(0, 40, 50, 40)), Plan::Done);
        assert_eq!(plan(&page(0, 0, 50, 0)), Plan::Done);
    }

    #[test]
    fn without_a_total_next_is_followed() {
        let body =
            json!({ "items": names(0, 50), "_pagination": { "offset": 0, "limit": 50, "next": { "offset": 50 } } });
        assert_eq!(plan(&parse_page::<User>("users", body).unwrap()), Plan::FollowNext(50));
        let last = json!({ "items": names(0, 5), "_pagination": { "offset": 0, "limit": 50, "next": null } });
        assert_eq!(plan(&parse_page::<User>("users", last).unwrap()), Plan::Done);
    }

    // Issue #26: a plain list (the `Accept` header dropped on the way) may
    // be cut at one page, whatever its length: it is read on by offset.
    #[test]
    fn a_plain_list_is_read_on() {
        let page = parse_page::<User>("users", Value::Array(names(0, 3))).unwrap();
        assert!(page.unpaged);
        assert_eq!(plan(&page), Plan::ReadOn(3));
        assert_eq!(page.items.len(), 3);
        assert_eq!(plan(&parse_page::<User>("users", json!([])).unwrap()), Plan::Done);
        // (page size, offset, got, new) -> next offset
        let cases = [
            ((50, 50, 50, 50), Some(100)),
            ((50, 300, 3, 3), None),
            ((50, 300, 0, 0), None),
            // Everything again: the hub ignores `offset`.
            ((3, 3, 3, 0), None),
            ((200, 200, 200, 1), Some(400)),
        ];
        for ((size, offset, got, new), next) in cases {
            assert_eq!(read_on(size, offset, got, new), next, "{size} {offset} {got} {new}");
        }
    }

    #[test]
    fn a_page_that_is_not_a_page_is_an_error() {
        let error = parse_page::<User>("users", json!("Forbidden")).unwrap_err();
        assert_eq!(error.to_string(), "list users: unexpected answer from the hub: expected a page, got \"Forbidden\"");
        let error = parse_page::<User>("users", json!({ "_pagination": {} })).unwrap_err();
        assert_eq!(error.to_string(), "list users: unexpected answer from the hub: a page without `items`");
    }

    #[test]
    fn an_empty_page_before_the_total_is_short() {
        let first = page(0, 0, 50, 10);
        assert_eq!(plan(&first), Plan::Done);
        let error = complete("users", first.total, first.items, Named::name).unwrap_err();
        assert!(matches!(error, HubError::ShortListing { total: 10, got: 0, .. }), "{error}");
    }

    #[test]
    fn the_count_is_checked_against_the_total() {
        let users = |count| page(0, count, 500, count).items;
        assert_eq!(complete("users", Some(303), users(303), Named::name).unwrap().len(), 303);
        let short = complete("users", Some(303), users(150), Named::name).unwrap_err();
        assert_eq!(
            short.to_string(),
            "list users: the hub has 303 but its pages held only 150; the listing is incomplete, \
             so nothing was used; run it again"
        );
        let more = complete("users", Some(100), users(101), Named::name).unwrap_err();
        assert!(matches!(more, HubError::ListingChanged { first: 100, now: 101, .. }), "{more}");
        // Overlapping pages (an entry shifted while reading) count once.
        let mut overlap = users(60);
        overlap.extend(page(40, 20, 500, 60).items);
        assert_eq!(complete("users", Some(60), overlap, Named::name).unwrap().len(), 60);
        let mut dup = users(59);
        dup.push(dup[0].clone());
        assert!(matches!(
            complete("users", Some(60), dup, Named::name).unwrap_err(),
            HubError::ShortListing { total: 60, got: 59, .. }
        ));
    }

    fn user(name: &str, last_activity: Option<&str>) -> User {
        serde_json::from_value(json!({ "name": name, "last_activity": last_activity })).unwrap()
    }

    fn sorted(key: &str, users: &[User]) -> Vec<String> {
        let mut users = users.to_vec();
        SortKey::parse(key).unwrap().sort(&mut users);
        users.into_iter().map(|u| u.name).collect()
    }

    #[test]
    fn listings_sort_as_the_hub_sorts() {
        // By creation, as a 4.x hub lists them.
        let users = [
            user("carol", Some("2026-01-02T00:00:00Z")),
            user("alice", None),
            user("bob", Some("2026-01-01T00:00:00Z")),
            user("dave", None),
        ];
        assert_eq!(sorted("name", &users), ["alice", "bob", "carol", "dave"]);
        assert_eq!(sorted("-name", &users), ["dave", "carol", "bob", "alice"]);
        assert_eq!(sorted("id", &users), ["carol", "alice", "bob", "dave"]);
        assert_eq!(sorted("-id", &users), ["dave", "bob", "alice", "carol"]);
        assert_eq!(sorted("last_activity", &users), ["alice", "dave", "bob", "carol"]);
        assert_eq!(sorted("-last_activity", &users), ["carol", "bob", "dave", "alice"]);
        assert_eq!(SortKey::parse("created"), None);
        assert_eq!(SortKey::parse("--name"), None);
    }
}
