//! A realistic large session, shared by the `session_load` benchmark and the `replay_100k`
//! example: what a PyTestLab-style test that runs for hours records.

use replay_core::session::{InstrumentLog, Interaction, InteractionKind, Session};

/// One step of the test, in the order the test performs it.
pub struct Step {
    /// Index of the instrument in [`ALIASES`].
    pub instrument: usize,
    /// What the test calls: `write`, `query` or `query_binary`.
    pub kind: InteractionKind,
    /// The command sent.
    pub command: String,
}

/// Generates a session of exactly `interactions` interactions over a power supply, a DMM
/// and an oscilloscope, in the order the test makes them: setpoint writes each followed by
/// `:SYSTem:ERRor?` polling, measurement queries, and a 2,000-byte binary waveform block
/// every 5,000 interactions. `record` receives the instrument's index and the interaction.
fn generate(interactions: usize, mut record: impl FnMut(usize, Interaction)) {
    let idns = [
        "Keysight Technologies,EDU36311A,CN61130056,K-01.08.03-01.00-01.08-02.00",
        "Keysight Technologies,34470A,MY56430012,A.03.01-02.40-03.01-00.52-03-02",
        "KEYSIGHT TECHNOLOGIES,DSOX1204G,CN63197144,02.12.2021071625",
    ];
    let mut sink = Sink {
        clock: 0.0,
        made: 0,
        record: &mut record,
    };
    let mut n = 0usize;
    for (i, idn) in idns.iter().enumerate().take(interactions) {
        sink.push(
            i,
            InteractionKind::Query,
            "*IDN?".into(),
            Some((*idn).into()),
            None,
        );
    }
    while sink.made < interactions {
        let left = interactions - sink.made;
        let instrument = n % ALIASES.len();
        n += 1;
        if n.is_multiple_of(5_000) {
            let payload: Vec<u8> = (0..2_000u32)
                .map(|k| ((k * 7 + n as u32) % 256) as u8)
                .collect();
            let block = replay_core::transport::encode_block(&payload);
            let text = String::from_utf8_lossy(&block).into_owned();
            sink.push(
                2,
                InteractionKind::QueryRaw,
                ":WAVeform:DATA?".into(),
                Some(text),
                Some(block),
            );
            continue;
        }
        if n.is_multiple_of(3) {
            let (command, response) = match instrument {
                0 => (
                    "MEAS:VOLT? (@1)".to_owned(),
                    format!("{:.6}", 1.5 + (n % 97) as f64 * 1e-5),
                ),
                1 => (
                    "MEAS:CURR:DC?".to_owned(),
                    scpi_float(0.05 + (n % 89) as f64 * 1e-7),
                ),
                _ => (
                    "MEAS:VPP? CHAN1".to_owned(),
                    format!("+{}E-03", 280 + n % 13),
                ),
            };
            sink.push(
                instrument,
                InteractionKind::Query,
                command,
                Some(response),
                None,
            );
            continue;
        }
        let command = match instrument {
            0 => format!("VOLT {:.3}, (@{})", (n % 500) as f64 / 100.0, n % 3 + 1),
            1 => format!("CONF:VOLT:DC {}", [1, 10, 100][n % 3]),
            _ => format!(":TIMebase:SCALe {}", [0.001, 0.0005, 0.002][n % 3]),
        };
        sink.push(instrument, InteractionKind::Write, command, None, None);
        if left >= 2 {
            sink.push(
                instrument,
                InteractionKind::Query,
                ":SYSTem:ERRor?".into(),
                Some("+0,\"No error\"".into()),
                None,
            );
        }
    }
}

/// `+5.00000000E-02`, as instruments print numbers.
fn scpi_float(value: f64) -> String {
    let text = format!("{value:+.8E}");
    match text.split_once('E') {
        Some((mantissa, exponent)) => {
            let exponent: i32 = exponent.parse().unwrap_or(0);
            format!("{mantissa}E{exponent:+03}")
        }
        None => text,
    }
}

/// Numbers the interactions and advances the session clock.
struct Sink<'a> {
    clock: f64,
    made: usize,
    record: &'a mut dyn FnMut(usize, Interaction),
}

impl Sink<'_> {
    fn push(
        &mut self,
        instrument: usize,
        kind: InteractionKind,
        command: String,
        response: Option<String>,
        binary: Option<Vec<u8>>,
    ) {
        self.clock += 0.000_137_5 + (self.made % 7) as f64 * 0.000_011_3;
        self.made += 1;
        (self.record)(instrument, {
            let mut interaction = Interaction::new(kind, command, self.clock);
            interaction.response = response;
            interaction.binary = binary;
            interaction
        });
    }
}

/// The instruments of the session, in file order, with their profiles.
pub const ALIASES: [(&str, &str); 3] = [
    ("psu", "keysight/EDU36311A"),
    ("dmm", "keysight/34470A"),
    ("scope", "keysight/DSOX1204G"),
];

/// The session with `interactions` interactions.
pub fn session(interactions: usize) -> Session {
    let mut logs: Vec<Vec<Interaction>> = vec![Vec::new(); ALIASES.len()];
    generate(interactions, |instrument, interaction| {
        logs[instrument].push(interaction)
    });
    Session::new(
        ALIASES
            .iter()
            .zip(logs)
            .map(|((alias, profile), log)| {
                (
                    (*alias).to_owned(),
                    InstrumentLog::new(Some((*profile).to_owned()), log),
                )
            })
            .collect(),
    )
}

/// The calls that replay [`session`]`(interactions)`, in order.
pub fn steps(interactions: usize) -> Vec<Step> {
    let mut steps = Vec::with_capacity(interactions);
    generate(interactions, |instrument, interaction| {
        steps.push(Step {
            instrument,
            kind: interaction.kind,
            command: interaction.command,
        })
    });
    steps
}

/// Replays `steps` against a bench opened on the session file at `path`, then finishes it.
/// Returns the number of response bytes received.
pub async fn replay(path: &std::path::Path, steps: &[Step]) -> replay_core::Result<usize> {
    let bench = replay_core::Bench::replay(path).await?;
    let instruments = ALIASES
        .iter()
        .map(|(alias, _)| bench.instrument(alias))
        .collect::<replay_core::Result<Vec<_>>>()?;
    let mut bytes = 0;
    for step in steps {
        let instrument = &instruments[step.instrument];
        match step.kind {
            InteractionKind::Write => instrument.write(&step.command).await?,
            InteractionKind::QueryRaw => {
                bytes += instrument.query_binary(&step.command).await?.len()
            }
            _ => bytes += instrument.query(&step.command).await?.len(),
        }
    }
    bench.finish().await?;
    Ok(bytes)
}
