//! Reading and writing Kubernetes secrets as maps of strings.
//!
//! Values are sent base64-encoded in `data` (as `kubectl create secret
//! generic` does) and decoded on the way back; bytes that are not UTF-8 are
//! replaced, since every secret jhctl handles holds text.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::PostParams;
use kube::Api;

use super::cluster_error::Op;
use super::{Cluster, ClusterError};

impl Cluster {
    /// Reads secret `name` in namespace `ns` and returns its keys with
    /// decoded values.
    pub async fn secret(&self, ns: &str, name: &str) -> Result<BTreeMap<String, String>, ClusterError> {
        let op = Op { verb: "get", kind: "secret", name, namespace: ns };
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        match api.get(name).await {
            Ok(secret) => Ok(decode(&secret)),
            Err(error) => Err(self.fail(&op, error).await),
        }
    }

    /// Creates secret `name` in namespace `ns` (type `Opaque`) holding `data`.
    ///
    /// When it exists already: with `overwrite` its data is replaced by
    /// `data` (labels, annotations and type are kept), otherwise
    /// [`ClusterError::AlreadyExists`] is returned and nothing changes.
    pub async fn create_secret(
        &self,
        ns: &str,
        name: &str,
        data: &BTreeMap<String, String>,
        overwrite: bool,
    ) -> Result<(), ClusterError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let encoded = encode(data);
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                namespace: Some(ns.to_string()),
                ..ObjectMeta::default()
            },
            type_: Some("Opaque".to_string()),
            data: Some(encoded.clone()),
            ..Secret::default()
        };
        let op = Op { verb: "create", kind: "secret", name, namespace: ns };
        match api.create(&PostParams::default(), &secret).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(response)) if response.code == 409 => {
                if !overwrite {
                    return Err(ClusterError::AlreadyExists { name: name.to_string(), namespace: ns.to_string() });
                }
            }
            Err(error) => return Err(self.fail(&op, error).await),
        }

        let get = Op { verb: "get", ..op };
        let mut existing = match api.get(name).await {
            Ok(existing) => existing,
            Err(error) => return Err(self.fail(&get, error).await),
        };
        existing.data = Some(encoded);
        existing.string_data = None;
        let update = Op { verb: "update", ..op };
        match api.replace(name, &PostParams::default(), &existing).await {
            Ok(_) => Ok(()),
            Err(error) => Err(self.fail(&update, error).await),
        }
    }
}

/// The secret's data as strings (lossy UTF-8).
fn decode(secret: &Secret) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = secret
        .data
        .iter()
        .flatten()
        .map(|(key, value)| (key.clone(), String::from_utf8_lossy(&value.0).into_owned()))
        .collect();
    // An API server never returns `stringData`, but a proxy or fake might.
    for (key, value) in secret.string_data.iter().flatten() {
        out.entry(key.clone()).or_insert_with(|| value.clone());
    }
    out
}

/// Strings as secret data.
fn encode(data: &BTreeMap<String, String>) -> BTreeMap<String, ByteString> {
    data.iter().map(|(key, value)| (key.clone(), ByteString(value.as_bytes().to_vec()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_is_lossy_and_keeps_every_key() {
        let secret = Secret {
            data: Some(BTreeMap::from([
                ("api-token".to_string(), ByteString(b"abc".to_vec())),
                ("odd".to_string(), ByteString(vec![0xff, b'x'])),
            ])),
            ..Secret::default()
        };
        let decoded = decode(&secret);
        assert_eq!(decoded["api-token"], "abc");
        assert_eq!(decoded["odd"], "\u{fffd}x");
    }

    #[test]
    fn encode_keeps_bytes() {
        let data = BTreeMap::from([("k".to_string(), "välue".to_string())]);
        assert_eq!(encode(&data)["k"].0, "välue".as_bytes());
    }
}
