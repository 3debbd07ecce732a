//! The SCPI error/event queue (`SYSTem:ERRor?`) and the standard event status register.

use std::collections::VecDeque;

/// Errors the simulated instruments report, with their SCPI-99 codes and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScpiError {
    /// `-102,"Syntax error"`: a header or parameter that cannot be parsed.
    Syntax,
    /// `-104,"Data type error"`: a number where none is allowed, or the reverse.
    DataType,
    /// `-108,"Parameter not allowed"`: more parameters than the command takes.
    ParameterNotAllowed,
    /// `-109,"Missing parameter"`.
    MissingParameter,
    /// `-113,"Undefined header"`: the instrument does not know the command.
    UndefinedHeader,
    /// `-222,"Data out of range"`.
    OutOfRange,
    /// `-223,"Too much data"`: a program message longer than the input buffer.
    TooMuchData,
    /// `-224,"Illegal parameter value"`: a keyword the command does not accept.
    IllegalValue,
    /// `-230,"Data corrupt or stale"`: fetching a reading that was never taken.
    DataStale,
    /// `-350,"Queue overflow"`: replaces the newest entry when the queue is full.
    QueueOverflow,
}

impl ScpiError {
    /// The error code.
    pub(crate) fn code(self) -> i32 {
        match self {
            ScpiError::Syntax => -102,
            ScpiError::DataType => -104,
            ScpiError::ParameterNotAllowed => -108,
            ScpiError::MissingParameter => -109,
            ScpiError::UndefinedHeader => -113,
            ScpiError::OutOfRange => -222,
            ScpiError::TooMuchData => -223,
            ScpiError::IllegalValue => -224,
            ScpiError::DataStale => -230,
            ScpiError::QueueOverflow => -350,
        }
    }

    /// The standard message.
    pub(crate) fn message(self) -> &'static str {
        match self {
            ScpiError::Syntax => "Syntax error",
            ScpiError::DataType => "Data type error",
            ScpiError::ParameterNotAllowed => "Parameter not allowed",
            ScpiError::MissingParameter => "Missing parameter",
            ScpiError::UndefinedHeader => "Undefined header",
            ScpiError::OutOfRange => "Data out of range",
            ScpiError::TooMuchData => "Too much data",
            ScpiError::IllegalValue => "Illegal parameter value",
            ScpiError::DataStale => "Data corrupt or stale",
            ScpiError::QueueOverflow => "Queue overflow",
        }
    }

    /// A command error (`-1xx`) aborts the rest of the program message.
    pub(crate) fn is_command_error(self) -> bool {
        (-199..=-100).contains(&self.code())
    }

    /// The `*ESR?` bit this error sets: command error (32), execution error (16),
    /// device-dependent error (8).
    fn esr_bit(self) -> u8 {
        match self.code() {
            -199..=-100 => 32,
            -299..=-200 => 16,
            _ => 8,
        }
    }
}

/// How many entries the queue holds; the newest is replaced by `-350` beyond that.
pub(crate) const QUEUE_CAPACITY: usize = 20;

/// The error queue: first in, first out, as `SYSTem:ERRor?` reads it.
#[derive(Debug, Default)]
pub(crate) struct ErrorQueue {
    queue: VecDeque<ScpiError>,
    esr: u8,
}

impl ErrorQueue {
    /// Records `error`.
    pub(crate) fn push(&mut self, error: ScpiError) {
        self.esr |= error.esr_bit();
        if self.queue.len() >= QUEUE_CAPACITY {
            if let Some(last) = self.queue.back_mut() {
                *last = ScpiError::QueueOverflow;
            }
        } else {
            self.queue.push_back(error);
        }
    }

    /// Takes the oldest entry, formatted as the instrument sends it:
    /// `-113,"Undefined header"`, or `+0,"No error"` when the queue is empty.
    pub(crate) fn pop(&mut self) -> String {
        match self.queue.pop_front() {
            Some(e) => format!("{},\"{}\"", e.code(), e.message()),
            None => "+0,\"No error\"".to_owned(),
        }
    }

    /// Number of entries (`SYSTem:ERRor:COUNt?`).
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Reads and clears the standard event status register (`*ESR?`).
    pub(crate) fn take_esr(&mut self) -> u8 {
        std::mem::take(&mut self.esr)
    }

    /// The status byte (`*STB?`): bit 2 when the error queue is not empty, bit 5 when the
    /// event status register is not zero.
    pub(crate) fn stb(&self) -> u8 {
        let mut stb = 0;
        if !self.queue.is_empty() {
            stb |= 4;
        }
        if self.esr != 0 {
            stb |= 32;
        }
        stb
    }

    /// Empties the queue and the event register (`*CLS`).
    pub(crate) fn clear(&mut self) {
        self.queue.clear();
        self.esr = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_no_error() {
        let mut q = ErrorQueue::default();
        assert_eq!(q.pop(), "+0,\"No error\"");
        q.push(ScpiError::UndefinedHeader);
        q.push(ScpiError::OutOfRange);
        assert_eq!(q.len(), 2);
        assert_eq!(q.stb(), 4 | 32);
        assert_eq!(q.pop(), "-113,\"Undefined header\"");
        assert_eq!(q.pop(), "-222,\"Data out of range\"");
        assert_eq!(q.pop(), "+0,\"No error\"");
        assert_eq!(q.take_esr(), 32 | 16);
        assert_eq!(q.take_esr(), 0);
    }

    #[test]
    fn overflow_replaces_newest() {
        let mut q = ErrorQueue::default();
        for _ in 0..QUEUE_CAPACITY + 5 {
            q.push(ScpiError::UndefinedHeader);
        }
        assert_eq!(q.len(), QUEUE_CAPACITY);
        for _ in 0..QUEUE_CAPACITY - 1 {
            assert_eq!(q.pop(), "-113,\"Undefined header\"");
        }
        assert_eq!(q.pop(), "-350,\"Queue overflow\"");
    }

    #[test]
    fn clear_empties_everything() {
        let mut q = ErrorQueue::default();
        q.push(ScpiError::Syntax);
        q.clear();
        assert_eq!(q.len(), 0);
        assert_eq!(q.stb(), 0);
        assert!(ScpiError::Syntax.is_command_error());
        assert!(!ScpiError::OutOfRange.is_command_error());
    }
}
