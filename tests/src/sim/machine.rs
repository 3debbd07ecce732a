//! One simulated instrument: the common IEEE 488.2 commands, the error queue, and the
//! processing of a whole program message (one line) over a model-specific [`Device`].

use super::errors::{ErrorQueue, ScpiError};
use super::params;
use super::scpi::{self, Command};

/// What a model-specific command did.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Outcome {
    /// A command that was executed and answers nothing.
    Done,
    /// A query's response, without terminator (text, or a binary block).
    Reply(Vec<u8>),
    /// A query that is known but never answers (`SYSTem:HANG?`).
    Silent,
    /// The command failed; the error goes to the queue and nothing is answered.
    Failed(ScpiError),
}

impl Outcome {
    /// A text reply.
    pub(crate) fn text(text: impl Into<String>) -> Outcome {
        Outcome::Reply(text.into().into_bytes())
    }
}

impl From<Result<Outcome, ScpiError>> for Outcome {
    fn from(result: Result<Outcome, ScpiError>) -> Outcome {
        result.unwrap_or_else(Outcome::Failed)
    }
}

/// The model-specific part of a simulated instrument.
pub(crate) trait Device: Send {
    /// The `*IDN?` response.
    fn idn(&self) -> &str;

    /// Back to the power-on settings (`*RST`), noise stream included: after `*RST` the
    /// readings depend only on the seed and the commands sent since, so a test that
    /// starts with `*RST` records the same bytes whatever ran before it.
    fn reset(&mut self);

    /// Executes a non-common command; `None` when the header is unknown (the machine
    /// reports `-113` then). Must not change any state before recognising the header.
    fn execute(&mut self, command: &Command<'_>) -> Option<Outcome>;
}

/// What one line made the instrument send.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Response {
    /// Nothing: the line held no query, or its queries fail or never answer.
    Nothing,
    /// The responses of the line's queries joined with `;` (IEEE 488.2), to be sent
    /// followed by the terminator.
    Message(Vec<u8>),
}

/// A simulated instrument: common commands and the error queue around a [`Device`].
pub(crate) struct Machine {
    device: Box<dyn Device>,
    errors: ErrorQueue,
}

impl Machine {
    /// Wraps `device`.
    pub(crate) fn new(device: Box<dyn Device>) -> Machine {
        Machine {
            device,
            errors: ErrorQueue::default(),
        }
    }

    /// Processes one program message (a line without its terminator).
    ///
    /// Commands run in order. A command error (`-1xx`: unknown header, bad syntax) aborts
    /// the rest of the line, as on real instruments; execution errors (`-2xx`) do not.
    pub(crate) fn handle_line(&mut self, line: &str) -> Response {
        let mut replies: Vec<Vec<u8>> = Vec::new();
        let mut silent = false;
        let mut path: Vec<String> = Vec::new();
        for text in scpi::split_commands(line) {
            let command = match scpi::parse_command(text) {
                Ok(command) => command,
                Err(_) => {
                    self.errors.push(ScpiError::Syntax);
                    break;
                }
            };
            let outcome = self.execute(&command, &mut path);
            match outcome {
                Outcome::Done => {}
                Outcome::Reply(bytes) => replies.push(bytes),
                Outcome::Silent => silent = true,
                Outcome::Failed(error) => {
                    self.errors.push(error);
                    if error.is_command_error() {
                        break;
                    }
                }
            }
        }
        if replies.is_empty() || silent {
            // A query that never answers holds back the whole response message.
            return Response::Nothing;
        }
        Response::Message(replies.join(&b';'))
    }

    /// Queues `-223,"Too much data"`: the server dropped a message longer than its
    /// input buffer.
    pub(crate) fn report_overlong_message(&mut self) {
        self.errors.push(ScpiError::TooMuchData);
    }

    fn execute(&mut self, command: &Command<'_>, path: &mut Vec<String>) -> Outcome {
        if command.common {
            return self.common(command);
        }
        // SCPI relative path: after `MEAS:VOLT?`, `CURR?` means `MEAS:CURR?`. Fall back
        // to the root so that `VOLT 1;OUTP ON` works whatever the previous path.
        if !command.absolute && !path.is_empty() {
            let relative = command.with_prefix(path);
            if let Some(outcome) = self.lookup(&relative) {
                path.clone_from(&relative.nodes);
                path.pop();
                return outcome;
            }
        }
        match self.lookup(command) {
            Some(outcome) => {
                path.clone_from(&command.nodes);
                path.pop();
                outcome
            }
            None => Outcome::Failed(ScpiError::UndefinedHeader),
        }
    }

    /// Runs a non-common command: the `SYSTem` subsystem, then the device; `None` when
    /// neither knows the header.
    fn lookup(&mut self, command: &Command<'_>) -> Option<Outcome> {
        if command.query && command.is("SYSTem:HANG") {
            return Some(Outcome::Silent);
        }
        self.system(command)
            .or_else(|| self.device.execute(command))
    }

    fn common(&mut self, command: &Command<'_>) -> Outcome {
        let name = command.nodes[0].as_str();
        if let Err(e) = params::at_most(&command.params, 0) {
            return Outcome::Failed(e);
        }
        match (name, command.query) {
            ("*IDN", true) => Outcome::text(self.device.idn()),
            ("*RST", false) => {
                self.device.reset();
                Outcome::Done
            }
            ("*CLS", false) => {
                self.errors.clear();
                Outcome::Done
            }
            ("*OPC", true) => Outcome::text("1"),
            ("*OPC" | "*WAI", false) => Outcome::Done,
            ("*TST", true) => Outcome::text("+0"),
            ("*ESR", true) => Outcome::text(format!("+{}", self.errors.take_esr())),
            ("*STB", true) => Outcome::text(format!("+{}", self.errors.stb())),
            _ => Outcome::Failed(ScpiError::UndefinedHeader),
        }
    }

    /// `SYSTem:ERRor[:NEXT]?`, `SYSTem:ERRor:COUNt?`, `SYSTem:VERSion?`.
    fn system(&mut self, command: &Command<'_>) -> Option<Outcome> {
        if !command.query {
            return None;
        }
        let outcome = if command.is("SYSTem:ERRor:[NEXT]") {
            Outcome::text(self.errors.pop())
        } else if command.is("SYSTem:ERRor:COUNt") {
            Outcome::text(format!("+{}", self.errors.len()))
        } else if command.is("SYSTem:VERSion") {
            Outcome::text("1999.0")
        } else {
            return None;
        };
        Some(match params::at_most(&command.params, 0) {
            Ok(()) => outcome,
            Err(e) => Outcome::Failed(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device with one setting, `LEVel`, and one measurement, `MEASure:LEVel?`.
    struct Knob(f64);

    impl Device for Knob {
        fn idn(&self) -> &str {
            "Acme,Knob,1,1.0"
        }
        fn reset(&mut self) {
            self.0 = 0.0;
        }
        fn execute(&mut self, c: &Command<'_>) -> Option<Outcome> {
            if c.is("LEVel") {
                if c.query {
                    return Some(Outcome::text(self.0.to_string()));
                }
                return Some(match c.params.first().map(|p| params::number(p)) {
                    Some(Ok(v)) if v > 10.0 => Outcome::Failed(ScpiError::OutOfRange),
                    Some(Ok(v)) => {
                        self.0 = v;
                        Outcome::Done
                    }
                    Some(Err(e)) => Outcome::Failed(e),
                    None => Outcome::Failed(ScpiError::MissingParameter),
                });
            }
            if c.is("MEASure:LEVel") && c.query {
                return Some(Outcome::text(format!("m{}", self.0)));
            }
            None
        }
    }

    fn machine() -> Machine {
        Machine::new(Box::new(Knob(0.0)))
    }

    fn text(r: Response) -> String {
        match r {
            Response::Message(bytes) => String::from_utf8(bytes).unwrap(),
            Response::Nothing => "<nothing>".to_owned(),
        }
    }

    #[test]
    fn common_commands() {
        let mut m = machine();
        assert_eq!(text(m.handle_line("*idn?")), "Acme,Knob,1,1.0");
        assert_eq!(text(m.handle_line("*OPC?")), "1");
        assert_eq!(m.handle_line("*RST"), Response::Nothing);
        assert_eq!(m.handle_line("*IDN? 1"), Response::Nothing);
        assert_eq!(
            text(m.handle_line("SYST:ERR?")),
            "-108,\"Parameter not allowed\""
        );
    }

    #[test]
    fn several_commands_on_one_line_and_joined_replies() {
        let mut m = machine();
        assert_eq!(text(m.handle_line("LEV 3;LEV?;*OPC?")), "3;1");
        // Relative path: `LEV?` after `MEAS:LEV?` is `MEAS:LEV?`.
        assert_eq!(text(m.handle_line("MEAS:LEV?;LEV?")), "m3;m3");
        // Absolute header resets the path.
        assert_eq!(text(m.handle_line("MEAS:LEV?;:LEV?")), "m3;3");
    }

    #[test]
    fn unknown_header_queues_error_and_aborts_line() {
        let mut m = machine();
        assert_eq!(m.handle_line("FOO?"), Response::Nothing);
        assert_eq!(m.handle_line("FOO 1;LEV 7"), Response::Nothing);
        assert_eq!(text(m.handle_line("LEV?")), "0");
        assert_eq!(text(m.handle_line(":SYSTem:ERRor:COUNt?")), "+2");
        assert_eq!(
            text(m.handle_line("SYST:ERR?")),
            "-113,\"Undefined header\""
        );
        // The relative path applies to SYSTem too: `ERR?` after `:SYST:VERS?`.
        assert_eq!(
            text(m.handle_line("*CLS;:SYST:VERS?;ERR?;ERR:COUN?")),
            "1999.0;+0,\"No error\";+0"
        );
        m.handle_line("FOO");
        assert_eq!(
            text(m.handle_line("syst:err:next?")),
            "-113,\"Undefined header\""
        );
        assert_eq!(text(m.handle_line("SYST:ERR?")), "+0,\"No error\"");
    }

    #[test]
    fn execution_errors_do_not_abort() {
        let mut m = machine();
        assert_eq!(text(m.handle_line("LEV 11;LEV 2;LEV?")), "2");
        assert_eq!(text(m.handle_line("*ESR?")), "+16");
        assert_eq!(
            text(m.handle_line("SYST:ERR?")),
            "-222,\"Data out of range\""
        );
        // A command error (-1xx) does abort.
        assert_eq!(m.handle_line("LEV abc;LEV 3"), Response::Nothing);
        assert_eq!(
            text(m.handle_line("LEV?;SYST:ERR?")),
            "2;-104,\"Data type error\""
        );
    }

    #[test]
    fn hang_holds_back_the_line() {
        let mut m = machine();
        assert_eq!(m.handle_line("SYST:HANG?"), Response::Nothing);
        assert_eq!(m.handle_line("*IDN?;:SYSTem:HANG?"), Response::Nothing);
        assert_eq!(text(m.handle_line("SYST:ERR?")), "+0,\"No error\"");
    }

    #[test]
    fn syntax_error() {
        let mut m = machine();
        assert_eq!(m.handle_line("LEV::X 1"), Response::Nothing);
        assert_eq!(text(m.handle_line("SYST:ERR?")), "-102,\"Syntax error\"");
        assert_eq!(text(m.handle_line("*STB?")), "+32");
    }
}
