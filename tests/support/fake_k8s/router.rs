//! The HTTP side of the fake API server: bearer-token check, RBAC denials,
//! routing of the REST paths kube-rs and kubectl use, and `Status` errors
//! shaped like the real API server's.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{header, Method, Request, Response, StatusCode};
use k8s_openapi::api::core::v1::Secret;
use serde_json::{json, Value};

use super::exec;
use super::state::{fold_string_data, merge_patch, DeploymentPatch, Selector, State};

/// The state shared by every connection and the test.
pub type Shared = Arc<Mutex<State>>;

/// A response with a JSON or empty body.
pub type Reply = Response<Full<Bytes>>;

/// The user RBAC messages name.
const USER: &str = "system:serviceaccount:jupyterhub:jhctl-test";

/// Locks the state, surviving a panicked test thread.
pub fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A JSON response.
pub fn json_reply(code: StatusCode, body: &Value) -> Reply {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

/// A failure `Status`, as the API server sends it.
pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Reply {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(details) = details {
        body["details"] = details;
    }
    json_reply(StatusCode::from_u16(code).expect("valid status code"), &body)
}

/// 404 for one object.
fn not_found(resource: &str, name: &str) -> Reply {
    status(404, "NotFound", &format!("{resource} \"{name}\" not found"), Some(json!({"name": name, "kind": resource})))
}

/// 404 for a create in a namespace that does not exist.
fn namespace_not_found(ns: &str) -> Reply {
    not_found("namespaces", ns)
}

/// 405 for a verb a path does not support.
fn method_not_allowed() -> Reply {
    status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", None)
}

/// 400 for a body that is not the expected JSON.
fn bad_request(message: &str) -> Reply {
    status(400, "BadRequest", message, None)
}

/// 403 the way RBAC words it.
pub fn forbidden(verb: &str, resource: &str, group: &str, name: Option<&str>, ns: Option<&str>) -> Reply {
    let base = resource.split('/').next().unwrap_or(resource);
    let object = match name {
        Some(name) => format!("{base} \"{name}\""),
        None => base.to_string(),
    };
    let scope = match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let message = format!(
        "{object} is forbidden: User \"{USER}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"
    );
    let mut details = json!({"kind": base});
    if let Some(name) = name {
        details["name"] = json!(name);
    }
    status(403, "Forbidden", &message, Some(details))
}

/// The query string as decoded pairs (`+` is a space), in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let decode =
        |text: &str| percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (decode(key), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// The RBAC verb of a request.
fn verb(method: &Method, collection: bool) -> &'static str {
    match *method {
        Method::GET if collection => "list",
        Method::GET => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "unknown",
    }
}

/// Serves one request.
pub async fn handle(shared: Shared, token: Arc<String>, mut req: Request<Incoming>) -> Result<Reply, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query().unwrap_or(""));
    lock(&shared).requests.push(format!("{method} {}", req.uri()));

    let authorized = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value == format!("Bearer {token}"));
    if !authorized {
        return Ok(status(401, "Unauthorized", "Unauthorized", None));
    }

    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // (resource, API group, name, namespace) for the RBAC check.
    let target: Option<(&str, &str, Option<&str>, Option<&str>)> = match segments.as_slice() {
        ["api", "v1", "namespaces"] => Some(("namespaces", "", None, None)),
        ["api", "v1", "namespaces", ns] => Some(("namespaces", "", Some(*ns), None)),
        ["api", "v1", "namespaces", ns, resource] => Some((*resource, "", None, Some(*ns))),
        ["api", "v1", "namespaces", ns, resource, name] => Some((*resource, "", Some(*name), Some(*ns))),
        ["api", "v1", "namespaces", ns, "pods", name, "exec"] => Some(("pods/exec", "", Some(*name), Some(*ns))),
        ["apis", "apps", "v1", "namespaces", ns, resource] => Some((*resource, "apps", None, Some(*ns))),
        ["apis", "apps", "v1", "namespaces", ns, resource, name] => Some((*resource, "apps", Some(*name), Some(*ns))),
        _ => None,
    };
    if let Some((resource, group, name, ns)) = target {
        let verbs: &[&str] = if resource == "pods/exec" {
            // A WebSocket exec is a GET; RBAC roles grant it as `create` (and,
            // on newer servers, `get` too). Either denial blocks it.
            &["create", "get"]
        } else {
            &[verb(&method, name.is_none())]
        };
        let denied = {
            let state = lock(&shared);
            verbs
                .iter()
                .find(|verb| state.denied.contains(&(verb.to_string(), resource.to_string())))
                .map(|verb| verb.to_string())
        };
        if let Some(verb) = denied {
            return Ok(forbidden(&verb, resource, group, name, ns));
        }
    }

    let reply = match segments.as_slice() {
        ["version"] => json_reply(
            StatusCode::OK,
            &json!({
                "major": "1", "minor": "33", "gitVersion": "v1.33.0-fake",
                "gitCommit": "0000000", "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z",
                "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"
            }),
        ),
        ["api"] => json_reply(
            StatusCode::OK,
            &json!({"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        ),
        ["apis"] => json_reply(
            StatusCode::OK,
            &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
                "name": "apps",
                "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}
            }]}),
        ),
        ["api", "v1"] => json_reply(
            StatusCode::OK,
            &json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                resource_entry("namespaces", "Namespace", false, &["get", "list"]),
                resource_entry("secrets", "Secret", true, &["create", "delete", "get", "list", "patch", "update"]),
                resource_entry("pods", "Pod", true, &["get", "list"]),
                resource_entry("pods/exec", "PodExecOptions", true, &["create", "get"]),
            ]}),
        ),
        ["apis", "apps", "v1"] => json_reply(
            StatusCode::OK,
            &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1", "resources": [
                resource_entry("deployments", "Deployment", true, &["get", "list", "patch"]),
            ]}),
        ),
        ["api", "v1", "namespaces"] if method == Method::GET => {
            let state = lock(&shared);
            let items: Vec<Value> = state.namespaces.iter().map(|ns| namespace_json(ns)).collect();
            list_reply("NamespaceList", "v1", &state, items)
        }
        ["api", "v1", "namespaces", ns] if method == Method::GET => {
            if lock(&shared).namespaces.contains(*ns) {
                json_reply(StatusCode::OK, &namespace_json(ns))
            } else {
                not_found("namespaces", ns)
            }
        }
        ["api", "v1", "namespaces", ns, "secrets"] => match method {
            Method::GET => {
                let state = lock(&shared);
                let items = state
                    .secrets
                    .iter()
                    .filter(|((namespace, _), _)| namespace == ns)
                    .map(|(_, secret)| serde_json::to_value(secret).expect("serialize"))
                    .collect();
                list_reply("SecretList", "v1", &state, items)
            }
            Method::POST => {
                let body = read_body(req).await;
                create_secret(&shared, ns, &body)
            }
            _ => method_not_allowed(),
        },
        ["api", "v1", "namespaces", ns, "secrets", name] => {
            let key = (ns.to_string(), name.to_string());
            match method {
                Method::GET => match lock(&shared).secrets.get(&key) {
                    Some(secret) => json_reply(StatusCode::OK, &serde_json::to_value(secret).expect("serialize")),
                    None => not_found("secrets", name),
                },
                Method::PUT => {
                    let body = read_body(req).await;
                    replace_secret(&shared, ns, name, &body)
                }
                Method::PATCH => {
                    let content_type = content_type(&req);
                    let body = read_body(req).await;
                    patch_secret(&shared, ns, name, &content_type, &body)
                }
                Method::DELETE => match lock(&shared).secrets.remove(&key) {
                    Some(secret) => json_reply(
                        StatusCode::OK,
                        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                "details": {"name": name, "kind": "secrets", "uid": secret.metadata.uid}}),
                    ),
                    None => not_found("secrets", name),
                },
                _ => method_not_allowed(),
            }
        }
        ["api", "v1", "namespaces", ns, "pods"] if method == Method::GET => {
            let selector =
                query.iter().find(|(key, _)| key == "labelSelector").map(|(_, value)| value.as_str()).unwrap_or("");
            match Selector::parse(selector) {
                Err(message) => bad_request(&message),
                Ok(selector) => {
                    let state = lock(&shared);
                    let items = state
                        .pods
                        .iter()
                        .filter(|((namespace, _), entry)| {
                            namespace == ns && selector.matches(entry.object.metadata.labels.as_ref())
                        })
                        .map(|(_, entry)| serde_json::to_value(&entry.object).expect("serialize"))
                        .collect();
                    list_reply("PodList", "v1", &state, items)
                }
            }
        }
        ["api", "v1", "namespaces", ns, "pods", name] if method == Method::GET => {
            match lock(&shared).pods.get(&(ns.to_string(), name.to_string())) {
                Some(entry) => json_reply(StatusCode::OK, &serde_json::to_value(&entry.object).expect("serialize")),
                None => not_found("pods", name),
            }
        }
        ["api", "v1", "namespaces", ns, "pods", name, "exec"] if method == Method::GET || method == Method::POST => {
            exec::start(&shared, &mut req, ns, name, &query)
        }
        ["apis", "apps", "v1", "namespaces", ns, "deployments"] if method == Method::GET => {
            let state = lock(&shared);
            let items = state
                .deployments
                .keys()
                .filter(|(namespace, _)| namespace == ns)
                .filter_map(|key| state.served_deployment(key))
                .map(|deployment| serde_json::to_value(deployment).expect("serialize"))
                .collect();
            list_reply("DeploymentList", "apps/v1", &state, items)
        }
        ["apis", "apps", "v1", "namespaces", ns, "deployments", name] => {
            let key = (ns.to_string(), name.to_string());
            match method {
                Method::GET => match lock(&shared).served_deployment(&key) {
                    Some(deployment) => {
                        json_reply(StatusCode::OK, &serde_json::to_value(deployment).expect("serialize"))
                    }
                    None => not_found("deployments.apps", name),
                },
                Method::PATCH => {
                    let content_type = content_type(&req);
                    let body = read_body(req).await;
                    patch_deployment(&shared, ns, name, &content_type, &body)
                }
                _ => method_not_allowed(),
            }
        }
        _ => status(404, "NotFound", "the server could not find the requested resource", None),
    };
    Ok(reply)
}

/// One entry of an `APIResourceList`.
fn resource_entry(name: &str, kind: &str, namespaced: bool, verbs: &[&str]) -> Value {
    json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": verbs})
}

/// A namespace object.
fn namespace_json(ns: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
           "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

/// A list object.
fn list_reply(kind: &str, api_version: &str, state: &State, items: Vec<Value>) -> Reply {
    json_reply(
        StatusCode::OK,
        &json!({"kind": kind, "apiVersion": api_version,
                "metadata": {"resourceVersion": state.resource_version.to_string()}, "items": items}),
    )
}

/// The request's content type, without parameters.
fn content_type(req: &Request<Incoming>) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or("").trim().to_string())
        .unwrap_or_default()
}

/// The whole request body.
async fn read_body(req: Request<Incoming>) -> Bytes {
    match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    }
}

/// POST of a secret.
fn create_secret(shared: &Shared, ns: &str, body: &[u8]) -> Reply {
    let mut secret: Secret = match serde_json::from_slice(body) {
        Ok(secret) => secret,
        Err(error) => return bad_request(&format!("error decoding Secret: {error}")),
    };
    let Some(name) = secret.metadata.name.clone().filter(|name| !name.is_empty()) else {
        return status(
            422,
            "Invalid",
            "Secret \"\" is invalid: metadata.name: Required value: name or generateName is required",
            None,
        );
    };
    let mut state = lock(shared);
    if !state.namespaces.contains(ns) {
        return namespace_not_found(ns);
    }
    let key = (ns.to_string(), name.clone());
    if state.secrets.contains_key(&key) {
        return status(
            409,
            "AlreadyExists",
            &format!("secrets \"{name}\" already exists"),
            Some(json!({"name": name, "kind": "secrets"})),
        );
    }
    state.stamp(&mut secret.metadata, ns);
    secret.type_.get_or_insert_with(|| "Opaque".to_string());
    fold_string_data(&mut secret);
    state.store_secret(ns, secret.clone());
    json_reply(StatusCode::CREATED, &serde_json::to_value(&secret).expect("serialize"))
}

/// PUT of a secret.
fn replace_secret(shared: &Shared, ns: &str, name: &str, body: &[u8]) -> Reply {
    let mut secret: Secret = match serde_json::from_slice(body) {
        Ok(secret) => secret,
        Err(error) => return bad_request(&format!("error decoding Secret: {error}")),
    };
    if secret.metadata.name.as_deref() != Some(name) {
        return bad_request("the name of the object does not match the name on the URL");
    }
    let mut state = lock(shared);
    let key = (ns.to_string(), name.to_string());
    let Some(existing) = state.secrets.get(&key).cloned() else {
        return not_found("secrets", name);
    };
    if let Some(version) = &secret.metadata.resource_version {
        if Some(version) != existing.metadata.resource_version.as_ref() {
            return conflict("secrets", name);
        }
    }
    secret.metadata.uid = existing.metadata.uid.clone();
    secret.metadata.creation_timestamp = existing.metadata.creation_timestamp.clone();
    secret.metadata.namespace = Some(ns.to_string());
    secret.metadata.resource_version = Some(state.next_version());
    secret.type_.get_or_insert_with(|| "Opaque".to_string());
    fold_string_data(&mut secret);
    state.store_secret(ns, secret.clone());
    json_reply(StatusCode::OK, &serde_json::to_value(&secret).expect("serialize"))
}

/// 409 for a stale resourceVersion.
fn conflict(resource: &str, name: &str) -> Reply {
    status(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; \
             please apply your changes to the latest version and try again"
        ),
        Some(json!({"name": name, "kind": resource})),
    )
}

/// 415 for a patch type the fake does not implement.
fn unsupported_patch(content_type: &str) -> Reply {
    status(
        415,
        "UnsupportedMediaType",
        &format!(
            "the fake API server does not support patch type {content_type:?}; use a merge or strategic merge patch"
        ),
        None,
    )
}

/// True for the patch types the fake applies as a JSON merge patch.
fn is_merge_patch(content_type: &str) -> bool {
    matches!(content_type, "application/merge-patch+json" | "application/strategic-merge-patch+json")
}

/// PATCH of a secret (merge or strategic merge).
fn patch_secret(shared: &Shared, ns: &str, name: &str, content_type: &str, body: &[u8]) -> Reply {
    if !is_merge_patch(content_type) {
        return unsupported_patch(content_type);
    }
    let patch: Value = match serde_json::from_slice(body) {
        Ok(patch) => patch,
        Err(error) => return bad_request(&format!("error decoding patch: {error}")),
    };
    let mut state = lock(shared);
    let key = (ns.to_string(), name.to_string());
    let Some(existing) = state.secrets.get(&key) else {
        return not_found("secrets", name);
    };
    let mut value = serde_json::to_value(existing).expect("serialize");
    merge_patch(&mut value, &patch);
    let mut secret: Secret = match serde_json::from_value(value) {
        Ok(secret) => secret,
        Err(error) => return status(422, "Invalid", &format!("Secret \"{name}\" is invalid: {error}"), None),
    };
    secret.metadata.resource_version = Some(state.next_version());
    fold_string_data(&mut secret);
    state.store_secret(ns, secret.clone());
    json_reply(StatusCode::OK, &serde_json::to_value(&secret).expect("serialize"))
}

/// PATCH of a deployment: records it (and any `restartedAt`), applies it,
/// and starts a rollout when the pod template changed.
fn patch_deployment(shared: &Shared, ns: &str, name: &str, content_type: &str, body: &[u8]) -> Reply {
    if !is_merge_patch(content_type) {
        return unsupported_patch(content_type);
    }
    let patch: Value = match serde_json::from_slice(body) {
        Ok(patch) => patch,
        Err(error) => return bad_request(&format!("error decoding patch: {error}")),
    };
    let mut state = lock(shared);
    let key = (ns.to_string(), name.to_string());
    let delay = state.rollout_delay;
    let Some(entry) = state.deployments.get(&key) else {
        return not_found("deployments.apps", name);
    };
    let mut value = serde_json::to_value(&entry.object).expect("serialize");
    let template_before = value["spec"]["template"].clone();
    merge_patch(&mut value, &patch);
    let template_changed = value["spec"]["template"] != template_before;
    let mut deployment: k8s_openapi::api::apps::v1::Deployment = match serde_json::from_value(value) {
        Ok(deployment) => deployment,
        Err(error) => return status(422, "Invalid", &format!("Deployment.apps \"{name}\" is invalid: {error}"), None),
    };
    deployment.status = None;
    if template_changed {
        deployment.metadata.generation = Some(deployment.metadata.generation.unwrap_or(1) + 1);
    }
    deployment.metadata.resource_version = Some(state.next_version());
    let entry = state.deployments.get_mut(&key).expect("checked above");
    entry.object = deployment;
    if template_changed {
        entry.settles_at = Instant::now() + delay;
    }
    state
        .patches
        .entry(key.clone())
        .or_default()
        .push(DeploymentPatch { content_type: content_type.to_string(), body: patch.clone() });
    if let Some(at) = patch["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].as_str()
    {
        state.restarts.entry(key.clone()).or_default().push(at.to_string());
    }
    let served = state.served_deployment(&key).expect("stored above");
    json_reply(StatusCode::OK, &serde_json::to_value(served).expect("serialize"))
}
