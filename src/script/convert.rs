//! Conversions between core types and Rhai values (rhai's serde support).

use rhai::{Array, Dynamic, EvalAltResult};
use serde::Serialize;

/// Any serialisable value as a Rhai value (structs become maps).
pub fn to_dynamic<T: Serialize>(value: &T) -> Result<Dynamic, Box<EvalAltResult>> {
    rhai::serde::to_dynamic(value)
}

/// A list of serialisable values as a Rhai array.
pub fn to_array<T: Serialize>(values: &[T]) -> Result<Array, Box<EvalAltResult>> {
    values.iter().map(to_dynamic).collect()
}
