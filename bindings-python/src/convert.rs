//! Conversions between Python values and the core's serde types.
//!
//! Into Rust: ONE serde `Deserializer` that walks Python objects directly (dicts and other
//! mappings, lists, tuples and other iterables, str, int, float, bool, None; `datetime`/`date` as
//! ISO 8601; `os.PathLike` as its path; the binding's own objects -- `Policy`, `KeyRecord`,
//! `Report`, `Plan`... -- as the core value they wrap), so keyword arguments become the core's
//! options types (`kms_rotation::ops`), and a dict in the inventory shape of `formats.md` a
//! `KeyRecord`, through the core's own `Deserialize` and its checks, with no JSON text in
//! between. Errors name the field path.
//!
//! Into Python: the core's JSON through `json.loads`, so `to_dict()` is exactly the JSON shape
//! of `formats.md`.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::Serialize;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

/// A conversion failure; the message, with the field path, becomes an `InvalidInputError`.
#[derive(Debug)]
pub struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

fn py_err(err: PyErr) -> DeError {
    DeError(err.to_string())
}

/// Deserializes `obj` into `T`; an error names `what` and the field path inside it.
pub fn from_py<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> kms_rotation::Result<T> {
    from_py_at(obj, || what.to_owned())
}

/// [`from_py`] with the name built only on error (it is an index in a long list).
pub fn from_py_at<T: DeserializeOwned>(
    obj: &Bound<'_, PyAny>,
    what: impl FnOnce() -> String,
) -> kms_rotation::Result<T> {
    // The fast path tracks no field path (an allocation per field); only a failure is walked
    // again to name the field.
    if let Ok(value) = T::deserialize(PyDeserializer { obj }) {
        return Ok(value);
    }
    let what = what();
    match serde_path_to_error::deserialize(PyDeserializer { obj }) {
        Ok(value) => Ok(value),
        Err(e) => {
            let path = e.path().to_string();
            let field = if path.is_empty() || path == "." {
                what
            } else if what.is_empty() || path.starts_with('[') {
                format!("{what}{path}")
            } else {
                format!("{what}.{path}")
            };
            let err = kms_rotation::Error::invalid_input(e.into_inner().0);
            Err(if field.is_empty() {
                err
            } else {
                err.with_field(field)
            })
        }
    }
}

/// The options of an operation from its keyword arguments: `None` values mean "not given" and
/// are dropped; the rest go through [`from_py`], so error fields are the options' own names
/// (`regions[0]`, `scan.inventory`).
pub fn options<T: DeserializeOwned>(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> kms_rotation::Result<T> {
    let given = PyDict::new(py);
    for (name, value) in kwargs.into_iter().flat_map(|k| k.iter()) {
        if !value.is_none() {
            given
                .set_item(name, value)
                .map_err(|e| kms_rotation::Error::invalid_input(e.to_string()))?;
        }
    }
    from_py(given.as_any(), "").map_err(|err| match err.context().field {
        Some(_) => err,
        None => name_the_option::<T>(&given, err),
    })
}

/// `err`, which serde gave no field path (a value of flattened options, such as the AWS ones,
/// or an unknown option), with the field of the option that fails alone with the same message.
fn name_the_option<T: DeserializeOwned>(
    given: &Bound<'_, PyDict>,
    err: kms_rotation::Error,
) -> kms_rotation::Error {
    let py = given.py();
    let message = err.to_string();
    for (name, value) in given.iter() {
        let alone = PyDict::new(py);
        if alone.set_item(&name, value).is_err() {
            continue;
        }
        if let Err(e) = T::deserialize(PyDeserializer { obj: &alone })
            && e.0 == message
            && let Ok(name) = name.extract::<String>()
        {
            return err.with_field(name);
        }
    }
    err
}

struct PyDeserializer<'a, 'py> {
    obj: &'a Bound<'py, PyAny>,
}

impl<'a, 'py> PyDeserializer<'a, 'py> {
    fn string(&self) -> Option<Result<&'a str, DeError>> {
        self.obj
            .cast::<PyString>()
            .ok()
            .map(|s| s.to_str().map_err(py_err))
    }

    /// `datetime` and `date` objects, as the ISO 8601 text the core parses. A naive datetime
    /// is refused: guessing its zone would shift every date by hours.
    fn iso_date(&self) -> Result<Option<String>, DeError> {
        let py = self.obj.py();
        if !self
            .obj
            .hasattr(pyo3::intern!(py, "isoformat"))
            .map_err(py_err)?
        {
            return Ok(None);
        }
        if self
            .obj
            .hasattr(pyo3::intern!(py, "utcoffset"))
            .map_err(py_err)?
            && self
                .obj
                .call_method0("utcoffset")
                .map_err(py_err)?
                .is_none()
        {
            return Err(DeError(
                "a naive datetime has no time zone; use an aware one, e.g. \
                 datetime.now(timezone.utc)"
                    .to_owned(),
            ));
        }
        let text = self.obj.call_method0("isoformat").map_err(py_err)?;
        Ok(Some(text.extract::<String>().map_err(py_err)?))
    }

    fn type_name(&self) -> String {
        self.obj
            .get_type()
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string())
    }
}

impl<'de> de::Deserializer<'de> for PyDeserializer<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let obj = self.obj;
        if let Some(s) = self.string() {
            return visitor.visit_str(s?);
        }
        if let Ok(dict) = obj.cast::<PyDict>() {
            return visitor.visit_map(DictAccess {
                iter: dict.iter(),
                value: None,
            });
        }
        if obj.is_none() {
            return visitor.visit_unit();
        }
        // bool before int: Python's bool is an int.
        if let Ok(b) = obj.cast::<PyBool>() {
            return visitor.visit_bool(b.is_true());
        }
        if obj.cast::<PyInt>().is_ok() {
            return match obj.extract::<i64>() {
                Ok(i) => visitor.visit_i64(i),
                Err(_) => visitor.visit_u64(obj.extract::<u64>().map_err(py_err)?),
            };
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return visitor.visit_f64(f.value());
        }
        if let Ok(list) = obj.cast::<PyList>() {
            return visitor.visit_seq(SeqAccess {
                items: list.iter().collect::<Vec<_>>().into_iter(),
            });
        }
        if let Ok(tuple) = obj.cast::<PyTuple>() {
            return visitor.visit_seq(SeqAccess {
                items: tuple.iter().collect::<Vec<_>>().into_iter(),
            });
        }
        // The binding's own objects, as the core value they wrap.
        if let Some(value) = crate::types::core_value(obj) {
            let value = value.map_err(|e| DeError(e.to_string()))?;
            return de::Deserializer::deserialize_any(value, visitor)
                .map_err(|e| DeError(e.to_string()));
        }
        if obj
            .hasattr(pyo3::intern!(obj.py(), "__fspath__"))
            .map_err(py_err)?
        {
            static FSDECODE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
            let path = FSDECODE
                .import(obj.py(), "os", "fsdecode")
                .and_then(|f| f.call1((obj,)))
                .map_err(py_err)?;
            return PyDeserializer { obj: &path }.deserialize_any(visitor);
        }
        if let Some(text) = self.iso_date()? {
            return visitor.visit_string(text);
        }
        // Other mappings (MappingProxy, custom Mapping classes) as a dict copy.
        if obj
            .hasattr(pyo3::intern!(obj.py(), "keys"))
            .map_err(py_err)?
        {
            let dict = PyDict::new(obj.py());
            dict.update(obj.cast().map_err(|e| DeError(e.to_string()))?)
                .map_err(py_err)?;
            return PyDeserializer { obj: dict.as_any() }.deserialize_any(visitor);
        }
        // Other iterables (generators, sets) as a list.
        if let Ok(iter) = obj.try_iter() {
            let items = iter.collect::<PyResult<Vec<_>>>().map_err(py_err)?;
            return visitor.visit_seq(SeqAccess {
                items: items.into_iter(),
            });
        }
        Err(DeError(format!(
            "a value of type `{}` cannot be converted (expected dict, list, str, int, float, \
             bool, None, datetime, date or a path)",
            self.type_name()
        )))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.obj.is_none() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.string() {
            Some(s) => visitor.visit_enum(s?.into_deserializer()),
            None => Err(DeError(format!(
                "expected a string, got a value of type `{}`",
                self.type_name()
            ))),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Unknown fields are ignored (formats.md) without walking them.
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct DictAccess<'py> {
    iter: pyo3::types::dict::BoundDictIterator<'py>,
    value: Option<Bound<'py, PyAny>>,
}

impl<'de> de::MapAccess<'de> for DictAccess<'_> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(PyDeserializer { obj: &key }).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(value) => seed.deserialize(PyDeserializer { obj: &value }),
            None => Err(DeError("a value without a key".to_owned())),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct SeqAccess<'py> {
    items: std::vec::IntoIter<Bound<'py, PyAny>>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = DeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(item) => seed.deserialize(PyDeserializer { obj: &item }).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// `value` as Python objects in its JSON shape (dicts, lists, str, int, float, bool, None).
pub fn to_py<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let text = serde_json::to_string(value)
        .map_err(|e| crate::errors::unexpected(format!("cannot serialize: {e}")))?;
    LOADS.import(py, "json", "loads")?.call1((text,))
}

/// A core value that goes to Python as [`to_py`] gives it: plain dicts and lists, for results
/// that have no class of their own.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<'py, T: Serialize> IntoPyObject<'py> for Json<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A serde value's wire name (`"CUSTOMER"`, `"rotation_disabled"`...).
pub fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => format!("<{e}>"),
    }
}

/// An aware `datetime` (UTC) for `at`.
pub fn datetime<'py>(py: Python<'py>, at: &DateTime<Utc>) -> PyResult<Bound<'py, PyAny>> {
    static FROMISOFORMAT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    // `+00:00`, not `Z`: Python 3.10's fromisoformat does not read `Z`.
    let text = at.to_rfc3339_opts(SecondsFormat::AutoSi, false);
    FROMISOFORMAT
        .import(py, "datetime", "datetime")?
        .call_method1("fromisoformat", (text,))
}
