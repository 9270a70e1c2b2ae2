//! Restarting a deployment the way `kubectl rollout restart` does, and
//! waiting for the rollout the way `kubectl rollout status` does.

use std::time::Duration;

use chrono::SecondsFormat;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Patch, PatchParams};
use kube::Api;

use super::cluster_error::Op;
use super::{Cluster, ClusterError};

/// The pod-template annotation whose change makes a deployment replace its pods.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// How often [`Cluster::wait_rollout`] looks at the deployment.
const POLL: Duration = Duration::from_millis(500);

impl Cluster {
    /// Restarts every pod of `deployment`: a strategic-merge patch setting
    /// the pod-template annotation `kubectl.kubernetes.io/restartedAt` to
    /// the current time (RFC 3339), byte for byte what `kubectl rollout
    /// restart` sends.
    pub async fn rollout_restart(&self, ns: &str, deployment: &str) -> Result<(), ClusterError> {
        let now = chrono::Local::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let patch = serde_json::json!({
            "spec": { "template": { "metadata": { "annotations": { RESTARTED_AT: now } } } }
        });
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), ns);
        let params = PatchParams { field_manager: Some("jhctl".to_string()), ..PatchParams::default() };
        match api.patch(deployment, &params, &Patch::Strategic(patch)).await {
            Ok(_) => Ok(()),
            Err(error) => {
                let op = Op { verb: "patch", kind: "deployment", name: deployment, namespace: ns };
                Err(self.fail(&op, error).await)
            }
        }
    }

    /// Waits until `deployment` has rolled out: the controller has seen the
    /// latest spec (`observedGeneration >= generation`), every desired
    /// replica is updated, ready and available, and no old replica is left.
    /// Fails after `timeout`, or at once when the deployment reports that
    /// its progress deadline was exceeded.
    pub async fn wait_rollout(&self, ns: &str, deployment: &str, timeout: Duration) -> Result<(), ClusterError> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), ns);
        let op = Op { verb: "get", kind: "deployment", name: deployment, namespace: ns };
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let current = match api.get(deployment).await {
                Ok(current) => current,
                Err(error) => return Err(self.fail(&op, error).await),
            };
            let progress = match rollout_progress(&current) {
                Progress::Done => return Ok(()),
                Progress::Failed(message) => {
                    return Err(ClusterError::RolloutFailed {
                        name: deployment.to_string(),
                        namespace: ns.to_string(),
                        message,
                    })
                }
                Progress::Waiting(progress) => progress,
            };
            if tokio::time::Instant::now() + POLL > deadline {
                return Err(ClusterError::RolloutTimeout {
                    name: deployment.to_string(),
                    namespace: ns.to_string(),
                    timeout,
                    progress,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Where a rollout stands.
#[derive(Debug, PartialEq, Eq)]
enum Progress {
    /// Finished.
    Done,
    /// Still going; the text says what it waits for.
    Waiting(String),
    /// The deployment gave up (progress deadline exceeded).
    Failed(String),
}

/// kubectl's rollout-status logic, plus a check on ready replicas.
fn rollout_progress(deployment: &Deployment) -> Progress {
    let generation = deployment.metadata.generation.unwrap_or(0);
    let status = deployment.status.clone().unwrap_or_default();
    if status.observed_generation.unwrap_or(0) < generation {
        return Progress::Waiting("the new spec is not yet observed by the controller".to_string());
    }
    let failed = status.conditions.iter().flatten().find(|condition| {
        condition.type_ == "Progressing" && condition.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    if let Some(condition) = failed {
        let message = condition.message.clone().unwrap_or_else(|| "progress deadline exceeded".to_string());
        return Progress::Failed(message);
    }
    let desired = deployment.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < desired {
        return Progress::Waiting(format!("{updated} of {desired} replicas are updated"));
    }
    if total > updated {
        return Progress::Waiting(format!("{} old replicas are pending termination", total - updated));
    }
    if ready < updated || available < updated {
        return Progress::Waiting(format!("{} of {updated} updated replicas are available", available.min(ready)));
    }
    Progress::Done
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentSpec, DeploymentStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn deployment(generation: i64, status: DeploymentStatus) -> Deployment {
        Deployment {
            metadata: ObjectMeta { generation: Some(generation), ..ObjectMeta::default() },
            spec: Some(DeploymentSpec { replicas: Some(2), ..DeploymentSpec::default() }),
            status: Some(status),
        }
    }

    fn status(observed: i64, total: i32, updated: i32, ready: i32) -> DeploymentStatus {
        DeploymentStatus {
            observed_generation: Some(observed),
            replicas: Some(total),
            updated_replicas: Some(updated),
            ready_replicas: Some(ready),
            available_replicas: Some(ready),
            ..DeploymentStatus::default()
        }
    }

    #[test]
    fn done_when_all_updated_and_ready() {
        assert_eq!(rollout_progress(&deployment(2, status(2, 2, 2, 2))), Progress::Done);
    }

    #[test]
    fn waits_for_the_controller_and_the_replicas() {
        let waiting = |d: &Deployment| matches!(rollout_progress(d), Progress::Waiting(_));
        assert!(waiting(&deployment(3, status(2, 2, 2, 2))));
        assert!(waiting(&deployment(2, status(2, 2, 1, 2))));
        assert!(waiting(&deployment(2, status(2, 3, 2, 2))));
        assert!(waiting(&deployment(2, status(2, 2, 2, 1))));
    }

    #[test]
    fn fails_on_progress_deadline() {
        let mut s = status(2, 2, 1, 1);
        s.conditions = Some(vec![DeploymentCondition {
            type_: "Progressing".to_string(),
            status: "False".to_string(),
            reason: Some("ProgressDeadlineExceeded".to_string()),
            message: Some("ReplicaSet \"hub-1\" has timed out progressing.".to_string()),
            ..DeploymentCondition::default()
        }]);
        assert!(matches!(rollout_progress(&deployment(2, s)), Progress::Failed(_)));
    }
}
