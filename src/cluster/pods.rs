//! The pods of a deployment, found through the deployment's own label
//! selector, best candidates for exec first.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::ListParams;
use kube::Api;

use super::cluster_error::Op;
use super::{Cluster, ClusterError};

impl Cluster {
    /// Names of the pods of `deployment`, selected with the deployment's
    /// `spec.selector`: running and ready pods first, then running ones,
    /// then the rest; pods being deleted last. Ties keep name order.
    pub async fn deployment_pods(&self, ns: &str, deployment: &str) -> Result<Vec<String>, ClusterError> {
        Ok(self.deployment_pod_objects(ns, deployment).await?.into_iter().filter_map(|pod| pod.metadata.name).collect())
    }

    /// The pods of `deployment`, ordered as in [`Cluster::deployment_pods`].
    pub(crate) async fn deployment_pod_objects(&self, ns: &str, deployment: &str) -> Result<Vec<Pod>, ClusterError> {
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), ns);
        let found = match deployments.get(deployment).await {
            Ok(found) => found,
            Err(error) => {
                let op = Op { verb: "get", kind: "deployment", name: deployment, namespace: ns };
                return Err(self.fail(&op, error).await);
            }
        };
        let selector = found.spec.as_ref().map(|spec| selector_string(&spec.selector)).unwrap_or_default();
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let mut list = match pods.list(&ListParams::default().labels(&selector)).await {
            Ok(list) => list.items,
            Err(error) => {
                let op = Op { verb: "list", kind: "pods of deployment", name: deployment, namespace: ns };
                return Err(self.fail(&op, error).await);
            }
        };
        list.sort_by_cached_key(|pod| (rank(pod), pod.metadata.name.clone()));
        Ok(list)
    }
}

/// A label selector in the `labelSelector` query syntax, e.g.
/// `app=jupyterhub,component in (hub)`.
pub(crate) fn selector_string(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> =
        selector.match_labels.iter().flatten().map(|(key, value)| format!("{key}={value}")).collect();
    for expression in selector.match_expressions.iter().flatten() {
        let values = expression.values.clone().unwrap_or_default().join(",");
        let key = &expression.key;
        match expression.operator.as_str() {
            "In" => parts.push(format!("{key} in ({values})")),
            "NotIn" => parts.push(format!("{key} notin ({values})")),
            "Exists" => parts.push(key.clone()),
            "DoesNotExist" => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.join(",")
}

/// The pod's phase, `Unknown` when the API did not say.
pub(crate) fn phase(pod: &Pod) -> String {
    pod.status.as_ref().and_then(|status| status.phase.clone()).unwrap_or_else(|| "Unknown".to_string())
}

/// True when the pod runs and is not being deleted.
pub(crate) fn is_running(pod: &Pod) -> bool {
    phase(pod) == "Running" && pod.metadata.deletion_timestamp.is_none()
}

/// Sort key: 0 running and ready, 1 running, 2 other phases, 3 being deleted.
fn rank(pod: &Pod) -> u8 {
    if pod.metadata.deletion_timestamp.is_some() {
        return 3;
    }
    if !is_running(pod) {
        return 2;
    }
    let ready = pod
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .map(|conditions| conditions.iter().any(|condition| condition.type_ == "Ready" && condition.status == "True"))
        .unwrap_or(false);
    if ready {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelectorRequirement, ObjectMeta};
    use std::collections::BTreeMap;

    #[test]
    fn selector_from_labels_and_expressions() {
        let selector = LabelSelector {
            match_labels: Some(BTreeMap::from([
                ("app".to_string(), "jupyterhub".to_string()),
                ("component".to_string(), "hub".to_string()),
            ])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".to_string(),
                    operator: "In".to_string(),
                    values: Some(vec!["a".to_string(), "b".to_string()]),
                },
                LabelSelectorRequirement {
                    key: "canary".to_string(),
                    operator: "DoesNotExist".to_string(),
                    values: None,
                },
            ]),
        };
        assert_eq!(selector_string(&selector), "app=jupyterhub,component=hub,tier in (a,b),!canary");
    }

    #[test]
    fn running_pods_rank_first() {
        let pod = |phase: &str| Pod {
            metadata: ObjectMeta::default(),
            status: Some(PodStatus { phase: Some(phase.to_string()), ..PodStatus::default() }),
            ..Pod::default()
        };
        assert!(rank(&pod("Running")) < rank(&pod("Pending")));
        assert!(!is_running(&pod("Succeeded")));
    }
}
