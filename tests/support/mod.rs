//! Shared test support: a real JupyterHub ([`hub::TestHub`]) and the
//! [`test::Test`] builder that runs the real `jhctl` binary.

// Each test module uses a different part of the support code.
#![allow(dead_code)]

pub mod hub;
pub mod page_proxy;
pub mod test;

pub mod background;
pub mod fake_k8s;
pub mod fault_proxy;
pub mod tls_proxy;
