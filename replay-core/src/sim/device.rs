//! The device: input buffer, command matching in pyvisa-sim's order, error handling,
//! output buffers.

use std::collections::VecDeque;

use super::SimError;
use super::channels::{Answer, Channels};
use super::component::{Component, Reply};
use super::random::Random;

/// A status register (`status_register:` entry): bits set by errors, read and cleared by
/// its query.
#[derive(Clone, Debug)]
pub(crate) struct Register {
    pub(crate) bits: Vec<(String, i64)>,
    pub(crate) value: i64,
}

/// An error queue (`error_queue:` entry): messages queued by errors, popped by its query,
/// `default` when empty.
#[derive(Clone, Debug)]
pub(crate) struct Queue {
    pub(crate) messages: Vec<(String, Vec<u8>)>,
    pub(crate) default: Vec<u8>,
    pub(crate) queued: VecDeque<Vec<u8>>,
}

/// Terminators per `(interface type in lower case, resource class)`: `(query, response)`.
pub(crate) type Eoms = Vec<((String, String), (Vec<u8>, Vec<u8>))>;

/// Everything a device definition holds, before it is bound to a resource.
#[derive(Clone, Debug)]
pub(crate) struct DeviceDef {
    pub(crate) delimiter: Vec<u8>,
    /// `(interface type in lower case, resource class)` → `(query eom, response eom)`.
    pub(crate) eoms: Eoms,
    pub(crate) component: Component,
    /// Channel groups by name.
    pub(crate) channels: Vec<(String, Channels)>,
    pub(crate) command_error: Reply,
    pub(crate) registers: Vec<(Vec<u8>, Register)>,
    pub(crate) queues: Vec<(Vec<u8>, Queue)>,
}

/// A simulated instrument defined by a pyvisa-sim device file, bound to one resource.
///
/// It behaves as pyvisa-sim's device: [`write`](SimDevice::write) accumulates bytes until
/// they end with the query terminator of the resource's interface (`eom`), splits the
/// message at the device's `delimiter` (`;` by default) and answers each part into an
/// output buffer that [`read`](SimDevice::read) returns, response terminator included.
/// Its state (property values, error queues, registers) lives as long as the value.
///
/// ```
/// # fn main() -> replay_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("psu.yaml");
/// std::fs::write(&path, r#"
/// spec: "1.1"
/// devices:
///   psu:
///     dialogues:
///       - q: "*IDN?"
///         r: "ACME,PSU1,0,1.0"
///     properties:
///       voltage:
///         default: 0.0
///         getter: {q: "VOLT?", r: "{:.3f}"}
///         setter: {q: "VOLT {:f}"}
///         specs: {type: float, min: 0, max: 30}
/// resources:
///   TCPIP::psu.local::INSTR:
///     device: psu
/// "#).unwrap();
/// let mut psu = replay_core::sim::SimDevice::open(&path, "TCPIP::psu.local::INSTR")?;
/// assert_eq!(psu.query("*IDN?").unwrap().as_deref(), Some("ACME,PSU1,0,1.0"));
/// psu.query("VOLT 12.5").unwrap();
/// assert_eq!(psu.query("VOLT?").unwrap().as_deref(), Some("12.500"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SimDevice {
    pub(crate) name: String,
    pub(crate) resource: String,
    def: DeviceDef,
    query_eom: Vec<u8>,
    response_eom: Vec<u8>,
    error_map: Vec<(String, usize)>,
    /// A serial (`ASRL`) resource: VISA ends a serial read at a line feed.
    serial: bool,
    input: Vec<u8>,
    output: VecDeque<Vec<u8>>,
    random: Random,
}

impl SimDevice {
    /// Binds a definition to `resource` (`interface`, `class`: the resource's interface type
    /// in lower case and its resource class), choosing the terminators for that interface
    /// (line feed both ways when the file gives none, as pyvisa-sim does).
    pub(crate) fn new(
        name: &str,
        resource: &str,
        interface: &str,
        class: &str,
        def: DeviceDef,
    ) -> SimDevice {
        let (query_eom, response_eom) = def
            .eoms
            .iter()
            .rev()
            .find(|((i, c), _)| i == interface && c == class)
            .map(|(_, eom)| eom.clone())
            .unwrap_or_else(|| (b"\n".to_vec(), b"\n".to_vec()));
        let mut error_map = Vec::new();
        for (index, (_, register)) in def.registers.iter().enumerate() {
            for (name, _) in &register.bits {
                error_map.retain(|(n, _): &(String, usize)| n != name);
                error_map.push((name.clone(), index));
            }
        }
        SimDevice {
            name: name.to_owned(),
            resource: resource.to_owned(),
            def,
            query_eom,
            response_eom,
            error_map,
            serial: interface == "asrl",
            input: Vec::new(),
            output: VecDeque::new(),
            random: Random::from_clock(),
        }
    }

    /// The device's name in the file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The resource name it is bound to, as written in the file.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The terminator that ends a message to the device (`eom.<interface>.q`).
    pub fn query_terminator(&self) -> &[u8] {
        &self.query_eom
    }

    /// The terminator that ends each reply (`eom.<interface>.r`).
    pub fn response_terminator(&self) -> &[u8] {
        &self.response_eom
    }

    /// Seeds the generator behind `RANDOM(…)` responses (seeded from the clock otherwise).
    pub fn seed(&mut self, seed: u64) {
        self.random = Random::new(seed);
    }

    /// Writes bytes to the device. A message is complete when the input ends with the query
    /// terminator; its replies are then queued. An error means pyvisa-sim would raise here
    /// (a getter template that does not fit its value, a malformed `RANDOM`); the input is
    /// dropped and replies of the message's earlier parts stay queued, as there.
    pub fn write(&mut self, data: &[u8]) -> Result<(), SimError> {
        self.input.extend_from_slice(data);
        if !self.input.ends_with(&self.query_eom) {
            return Ok(());
        }
        let input = std::mem::take(&mut self.input);
        // An empty terminator makes every write a message, an empty one (pyvisa-sim's
        // `buffer[:-0]`).
        let message = if self.query_eom.is_empty() {
            &[][..]
        } else {
            &input[..input.len() - self.query_eom.len()]
        };
        for query in split(message, &self.def.delimiter.clone()) {
            let reply = match self.answer(query)? {
                Some(reply) => reply,
                None => self.error_response(),
            };
            if let Some(mut bytes) = reply {
                bytes.extend_from_slice(&self.response_eom);
                self.output.push_back(bytes);
            }
        }
        Ok(())
    }

    /// Takes the next reply, its response terminator included; `None` when nothing is
    /// queued (a pyvisa-sim read would time out). On a serial (`ASRL`) resource a read
    /// ends at a line feed, as VISA's serial reads do by default, so a reply with a line
    /// feed inside is read in parts.
    pub fn read(&mut self) -> Option<Vec<u8>> {
        if self.serial {
            let front = self.output.front_mut()?;
            if let Some(end) = front.iter().position(|&b| b == b'\n')
                && end + 1 < front.len()
            {
                return Some(front.drain(..=end).collect());
            }
        }
        self.output.pop_front()
    }

    /// How many replies are queued.
    pub fn pending(&self) -> usize {
        self.output.len()
    }

    /// Device clear: drops queued replies and any partial input.
    pub fn clear(&mut self) {
        self.output.clear();
        self.input.clear();
    }

    /// Writes `command` and its query terminator, then takes one reply without its
    /// response terminator (`None`: the command produced no reply). Replies left queued
    /// from earlier commands are dropped first, so this answers `command` only.
    pub fn query(&mut self, command: &str) -> Result<Option<String>, SimError> {
        self.output.clear();
        let mut message = command.as_bytes().to_vec();
        message.extend_from_slice(&self.query_eom.clone());
        self.write(&message)?;
        Ok(self.read().map(|reply| {
            let body = reply
                .strip_suffix(self.response_eom.as_slice())
                .unwrap_or(&reply);
            String::from_utf8_lossy(body).into_owned()
        }))
    }

    /// The status byte: the value of the first status register (0 when there is none).
    /// pyvisa-sim has no serial poll; the servers' read-status-byte uses this.
    pub fn status_byte(&self) -> u8 {
        self.def
            .registers
            .first()
            .map_or(0, |(_, r)| (r.value & 0xff) as u8)
    }

    /// `error_response("command_error")`: sets the register bits and queues the message
    /// mapped to `command_error`, and answers the error response.
    fn error_response(&mut self) -> Reply {
        const KEY: &str = "command_error";
        if let Some((_, index)) = self.error_map.iter().find(|(n, _)| n == KEY) {
            let register = &mut self.def.registers[*index].1;
            if let Some((_, bits)) = register.bits.iter().find(|(n, _)| n == KEY) {
                register.value |= bits;
            }
        }
        for (_, queue) in &mut self.def.queues {
            if let Some((_, message)) = queue.messages.iter().rev().find(|(n, _)| n == KEY) {
                queue.queued.push_back(message.clone());
            }
        }
        self.def.command_error.clone()
    }

    /// pyvisa-sim's `_match`: dialogues, getters, status registers, error queues, setters,
    /// then each channel group. `None`: nothing matched (a command error).
    fn answer(&mut self, query: &[u8]) -> Result<Option<Reply>, SimError> {
        if let Some(reply) =
            Component::match_dialogue(&self.def.component.dialogues, query, &mut self.random)?
        {
            return Ok(Some(reply));
        }
        let getters = self
            .def
            .component
            .getters
            .iter()
            .map(|g| (g.query.clone(), g));
        if let Some(bytes) =
            self.def
                .component
                .match_getter(getters, query, "", &mut self.random)?
        {
            return Ok(Some(Some(bytes)));
        }
        if let Some((_, register)) = self
            .def
            .registers
            .iter_mut()
            .rev()
            .find(|(q, _)| q == query)
        {
            let value = register.value.to_string().into_bytes();
            register.value = 0;
            return Ok(Some(Some(value)));
        }
        if let Some((_, queue)) = self.def.queues.iter_mut().rev().find(|(q, _)| q == query) {
            let message = queue
                .queued
                .pop_front()
                .unwrap_or_else(|| queue.default.clone());
            return Ok(Some(Some(message)));
        }
        let text = std::str::from_utf8(query)
            .map_err(|_| SimError::new("the command is not valid UTF-8"))?;
        if let Some(reply) = self.def.component.match_device_setter(text)? {
            return Ok(Some(reply));
        }
        let selected = self
            .def
            .component
            .property("selected_channel")
            .map(|p| p.get("").clone());
        for index in 0..self.def.channels.len() {
            let answer =
                self.def.channels[index]
                    .1
                    .answer(query, selected.as_ref(), &mut self.random)?;
            let reply = match answer {
                None => continue,
                Some(Answer::Reply(reply)) => reply,
                Some(Answer::CommandError) => self.error_response(),
            };
            // pyvisa-sim tests the channel's answer for truth: an empty reply counts as
            // no answer and the next group is tried.
            if reply.as_ref().is_some_and(Vec::is_empty) {
                continue;
            }
            return Ok(Some(reply));
        }
        Ok(None)
    }
}

/// Python's `bytes.split(delimiter)` (no delimiter: the whole message).
fn split<'a>(message: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    if delimiter.is_empty() {
        return vec![message];
    }
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + delimiter.len() <= message.len() {
        if &message[i..i + delimiter.len()] == delimiter {
            parts.push(&message[start..i]);
            i += delimiter.len();
            start = i;
        } else {
            i += 1;
        }
    }
    parts.push(&message[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_is_python_bytes_split() {
        assert_eq!(split(b"a;b", b";"), vec![&b"a"[..], b"b"]);
        assert_eq!(split(b"a;;b;", b";"), vec![&b"a"[..], b"", b"b", b""]);
        assert_eq!(split(b"", b";"), vec![&b""[..]]);
        assert_eq!(split(b"a;b", b""), vec![&b"a;b"[..]]);
        assert_eq!(split(b"a::b", b"::"), vec![&b"a"[..], b"b"]);
    }
}
