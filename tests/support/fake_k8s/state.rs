//! What the fake API server stores: namespaces, secrets, deployments and
//! their pods, the RBAC denials, and a log of what clients did.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStatus};
use k8s_openapi::api::core::v1::{Container, Pod, PodCondition, PodSpec, PodStatus, PodTemplateSpec, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use k8s_openapi::chrono::Utc;
use serde_json::Value;

/// A namespaced object's key.
pub type Key = (String, String);

/// One recorded PATCH of a deployment.
#[derive(Debug, Clone)]
pub struct DeploymentPatch {
    /// The request's `Content-Type`, e.g. `application/strategic-merge-patch+json`.
    pub content_type: String,
    /// The patch body.
    pub body: Value,
}

/// A deployment and its rollout clock.
pub struct DeploymentEntry {
    /// The object as stored (status is computed when served).
    pub object: Deployment,
    /// Until when the current rollout is in progress.
    pub settles_at: Instant,
}

/// A pod and its scratch folder (the exec'd command's working directory).
pub struct PodEntry {
    /// The object as served.
    pub object: Pod,
    /// The pod's scratch folder.
    pub dir: PathBuf,
    /// Environment variables of commands exec'd in the pod (on top of the test's own).
    pub env: Vec<(String, String)>,
}

/// Everything the fake API server knows.
pub struct State {
    /// Existing namespaces.
    pub namespaces: BTreeSet<String>,
    /// Secrets by (namespace, name), with `stringData` already folded into `data`.
    pub secrets: BTreeMap<Key, Secret>,
    /// Deployments by (namespace, name).
    pub deployments: BTreeMap<Key, DeploymentEntry>,
    /// Pods by (namespace, name).
    pub pods: BTreeMap<Key, PodEntry>,
    /// `restartedAt` values seen in deployment patches, by (namespace, deployment).
    pub restarts: BTreeMap<Key, Vec<String>>,
    /// Every deployment patch, by (namespace, deployment).
    pub patches: BTreeMap<Key, Vec<DeploymentPatch>>,
    /// (verb, resource) pairs answered with 403, e.g. ("get", "secrets").
    pub denied: BTreeSet<(String, String)>,
    /// Exec sessions started.
    pub exec_count: usize,
    /// Break every exec session after this many lines of stdout: the
    /// process is killed and the connection dropped without a status.
    pub exec_break_after_lines: Option<usize>,
    /// `METHOD path?query` of every request, in order.
    pub requests: Vec<String>,
    /// How long a rollout takes after a template change.
    pub rollout_delay: Duration,
    /// The last resourceVersion handed out.
    pub resource_version: u64,
    /// Where pod scratch folders are made.
    pub pods_root: PathBuf,
}

impl State {
    /// An empty cluster whose pod folders go under `pods_root`.
    pub fn new(pods_root: PathBuf) -> State {
        State {
            namespaces: BTreeSet::new(),
            exec_break_after_lines: None,
            secrets: BTreeMap::new(),
            deployments: BTreeMap::new(),
            pods: BTreeMap::new(),
            restarts: BTreeMap::new(),
            patches: BTreeMap::new(),
            denied: BTreeSet::new(),
            exec_count: 0,
            requests: Vec::new(),
            rollout_delay: Duration::from_millis(300),
            resource_version: 1000,
            pods_root,
        }
    }

    /// A fresh resourceVersion.
    pub fn next_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// Fills the server-set metadata of a new object.
    pub fn stamp(&mut self, meta: &mut ObjectMeta, ns: &str) {
        meta.namespace = Some(ns.to_string());
        meta.resource_version = Some(self.next_version());
        meta.uid = Some(format!("00000000-0000-4000-8000-{:012}", self.resource_version));
        meta.creation_timestamp = Some(Time(Utc::now()));
    }

    /// Stores a secret, folding `stringData` into `data`.
    pub fn store_secret(&mut self, ns: &str, mut secret: Secret) {
        fold_string_data(&mut secret);
        let name = secret.metadata.name.clone().unwrap_or_default();
        self.secrets.insert((ns.to_string(), name), secret);
    }

    /// Adds a deployment with `replicas` running pods, each with a scratch folder.
    pub fn add_deployment(&mut self, ns: &str, name: &str, replicas: usize) -> Vec<String> {
        self.namespaces.insert(ns.to_string());
        let labels = BTreeMap::from([
            ("app".to_string(), "jupyterhub".to_string()),
            ("component".to_string(), name.to_string()),
        ]);
        let mut meta = ObjectMeta {
            name: Some(name.to_string()),
            generation: Some(1),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        };
        self.stamp(&mut meta, ns);
        let deployment = Deployment {
            metadata: meta,
            spec: Some(DeploymentSpec {
                replicas: Some(replicas as i32),
                selector: LabelSelector { match_labels: Some(labels.clone()), match_expressions: None },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(labels.clone()), ..ObjectMeta::default() }),
                    spec: Some(pod_spec(name)),
                },
                ..DeploymentSpec::default()
            }),
            status: None,
        };
        self.deployments.insert(
            (ns.to_string(), name.to_string()),
            DeploymentEntry { object: deployment, settles_at: Instant::now() },
        );
        let mut names = Vec::new();
        for index in 0..replicas {
            let pod_name = format!("{name}-7d4b9c8f6-{}", suffix(index));
            let mut pod_labels = labels.clone();
            pod_labels.insert("pod-template-hash".to_string(), "7d4b9c8f6".to_string());
            self.add_pod(ns, &pod_name, pod_labels, name);
            names.push(pod_name);
        }
        names
    }

    /// Adds a running, ready pod with one container and a scratch folder.
    pub fn add_pod(&mut self, ns: &str, name: &str, labels: BTreeMap<String, String>, container: &str) {
        self.namespaces.insert(ns.to_string());
        let mut meta = ObjectMeta { name: Some(name.to_string()), labels: Some(labels), ..ObjectMeta::default() };
        self.stamp(&mut meta, ns);
        let pod = Pod {
            metadata: meta,
            spec: Some(pod_spec(container)),
            status: Some(PodStatus {
                phase: Some("Running".to_string()),
                pod_ip: Some("10.0.0.1".to_string()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".to_string(),
                    status: "True".to_string(),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
        };
        let dir = self.pods_root.join(ns).join(name);
        std::fs::create_dir_all(&dir).expect("create the pod's scratch folder");
        self.pods.insert((ns.to_string(), name.to_string()), PodEntry { object: pod, dir, env: Vec::new() });
    }

    /// The deployment as served, with a status that reflects the rollout clock.
    pub fn served_deployment(&self, key: &Key) -> Option<Deployment> {
        let entry = self.deployments.get(key)?;
        let mut deployment = entry.object.clone();
        let generation = deployment.metadata.generation.unwrap_or(1);
        let replicas = deployment.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(1);
        let settled = Instant::now() >= entry.settles_at;
        deployment.status = Some(DeploymentStatus {
            observed_generation: Some(generation),
            replicas: Some(replicas),
            updated_replicas: Some(if settled { replicas } else { 0 }),
            ready_replicas: Some(replicas),
            available_replicas: Some(replicas),
            unavailable_replicas: None,
            ..DeploymentStatus::default()
        });
        Some(deployment)
    }
}

/// The one container of every fake pod.
fn pod_spec(container: &str) -> PodSpec {
    PodSpec {
        containers: vec![Container {
            name: container.to_string(),
            image: Some("fake.invalid/jupyterhub:latest".to_string()),
            ..Container::default()
        }],
        ..PodSpec::default()
    }
}

/// A pod-name suffix in Kubernetes' alphabet, unique per index.
fn suffix(mut index: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut out = [b'b'; 5];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[index % ALPHABET.len()];
        index /= ALPHABET.len();
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// Moves `stringData` into `data`, as the API server does on write.
pub fn fold_string_data(secret: &mut Secret) {
    if let Some(strings) = secret.string_data.take() {
        let data = secret.data.get_or_insert_with(BTreeMap::new);
        for (key, value) in strings {
            data.insert(key, k8s_openapi::ByteString(value.into_bytes()));
        }
    }
}

/// A parsed `labelSelector` query: equality, inequality, set and existence terms.
pub struct Selector(Vec<Term>);

/// One term of a label selector.
enum Term {
    /// `k=v`, `k==v`, `k in (a,b)`.
    In(String, Vec<String>),
    /// `k!=v`, `k notin (a,b)`.
    NotIn(String, Vec<String>),
    /// `k`.
    Exists(String),
    /// `!k`.
    Absent(String),
}

impl Selector {
    /// Parses a selector; `Err` with the API's kind of message when malformed.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let mut terms = Vec::new();
        for raw in split_terms(text) {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let set = |rest: &str| -> Result<Vec<String>, String> {
                let rest = rest.trim();
                let inner = rest
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(|| format!("unable to parse requirement: {raw}"))?;
                Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
            };
            let term = if let Some((key, value)) = raw.split_once("!=") {
                Term::NotIn(key.trim().to_string(), vec![value.trim().to_string()])
            } else if let Some((key, value)) = raw.split_once("==") {
                Term::In(key.trim().to_string(), vec![value.trim().to_string()])
            } else if let Some((key, value)) = raw.split_once('=') {
                Term::In(key.trim().to_string(), vec![value.trim().to_string()])
            } else if let Some((key, rest)) = raw.split_once(" notin ") {
                Term::NotIn(key.trim().to_string(), set(rest)?)
            } else if let Some((key, rest)) = raw.split_once(" in ") {
                Term::In(key.trim().to_string(), set(rest)?)
            } else if let Some(key) = raw.strip_prefix('!') {
                Term::Absent(key.trim().to_string())
            } else if raw.contains(' ') {
                return Err(format!("unable to parse requirement: {raw}"));
            } else {
                Term::Exists(raw.to_string())
            };
            terms.push(term);
        }
        Ok(Selector(terms))
    }

    /// True when `labels` satisfy every term.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let empty = BTreeMap::new();
        let labels = labels.unwrap_or(&empty);
        self.0.iter().all(|term| match term {
            Term::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Term::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Term::Exists(key) => labels.contains_key(key),
            Term::Absent(key) => !labels.contains_key(key),
        })
    }
}

/// Splits a selector at commas that are not inside parentheses.
fn split_terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    terms.push(current);
    terms
}

/// RFC 7386 JSON merge patch; keys starting with `$` (strategic-merge
/// directives) are ignored.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            let object = target.as_object_mut().expect("made an object above");
            for (key, value) in fields {
                if key.starts_with('$') {
                    continue;
                }
                if value.is_null() {
                    object.remove(key);
                } else {
                    merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        other => *target = other.clone(),
    }
}
