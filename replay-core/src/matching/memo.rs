//! Remembering what a command text was found to be, so that a replay parses each distinct
//! text once instead of once per comparison (a test that runs for hours sends the same few
//! hundred commands over and over).
//!
//! Bounded: when [`CAPACITY`] texts are remembered, the memo starts again from empty, so a
//! test that never repeats a command costs one parse per command, as without a memo, and
//! memory stays small.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use super::keywords::KeywordTable;
use super::parse::{Message, parse};

/// How many distinct texts a memo holds before it starts again from empty.
pub(crate) const CAPACITY: usize = 16_384;

/// A map keyed by what the test sends: short texts, hashed eight bytes at a time.
pub(crate) type Map<K, V> = HashMap<K, V, BuildHasherDefault<TextHasher>>;

/// A fast hash for short keys (the memo is on the path of every replayed command, where
/// the default SipHash cost as much as the rest of the look-up). Not collision-resistant,
/// which a memo of the test's own commands does not need.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TextHasher(u64);

impl TextHasher {
    const K: u64 = 0xf135_7aea_2e62_a9c5;

    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for TextHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Whole words; the last (partial) word is read overlapping the one before it.
        let n = bytes.len();
        if n >= 8 {
            let mut chunks = bytes.chunks_exact(8);
            for chunk in &mut chunks {
                self.add(word(chunk));
            }
            if !chunks.remainder().is_empty() {
                self.add(word(&bytes[n - 8..]));
            }
        } else if n >= 4 {
            let (lo, hi) = (half(&bytes[..4]), half(&bytes[n - 4..]));
            self.add(lo | hi << 32);
        } else if n > 0 {
            let spread = u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8;
            self.add(spread | u64::from(bytes[n - 1]) << 16 | (n as u64) << 24);
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // Mix the high bits down: the table picks buckets with the low ones.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }
}

/// Eight bytes (`bytes` holds exactly eight) as a little-endian word.
fn word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_le_bytes(word)
}

/// Four bytes (`bytes` holds exactly four) as a little-endian word.
fn half(bytes: &[u8]) -> u64 {
    let mut half = [0u8; 4];
    half.copy_from_slice(bytes);
    u64::from(u32::from_le_bytes(half))
}

/// Command text → a small `Copy` value derived from it.
#[derive(Debug)]
pub(crate) struct TextMemo<V> {
    map: Map<Box<str>, V>,
}

impl<V> Default for TextMemo<V> {
    fn default() -> Self {
        TextMemo {
            map: Map::default(),
        }
    }
}

impl<V: Copy> TextMemo<V> {
    /// The value remembered for `text`, computing (and remembering) it on first sight.
    #[inline]
    pub(crate) fn get_or_insert_with(&mut self, text: &str, compute: impl FnOnce() -> V) -> V {
        if let Some(value) = self.map.get(text) {
            return *value;
        }
        if self.map.len() >= CAPACITY {
            self.map.clear();
        }
        let value = compute();
        self.map.insert(text.into(), value);
        value
    }

    /// Whether `n` new texts fit without starting the memo again.
    pub(crate) fn has_room(&self, n: usize) -> bool {
        self.map.len() + n <= CAPACITY
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }
}

/// Numbers parsed messages so that two texts get the same number exactly when they parse
/// to equal [`Message`]s, which is exactly when the `scpi` rule (without a tolerance) calls
/// them the same command. Each distinct text is parsed once.
#[derive(Debug, Default)]
pub(crate) struct Canonical {
    by_text: TextMemo<u32>,
    by_message: Map<Message, u32>,
}

impl Canonical {
    /// Whether `a` and `b` parse to equal messages with `table`.
    pub(crate) fn same(&mut self, a: &str, b: &str, table: &KeywordTable) -> bool {
        // Numbers are only comparable within one generation: start again before, never
        // between, the two look-ups.
        if !self.by_text.has_room(2) {
            self.by_text.clear();
            self.by_message.clear();
        }
        self.number(a, table) == self.number(b, table)
    }

    fn number(&mut self, text: &str, table: &KeywordTable) -> u32 {
        let by_message = &mut self.by_message;
        self.by_text
            .get_or_insert_with(text, || intern(by_message, parse(text, table)))
    }
}

fn intern<K: Hash + Eq>(numbers: &mut Map<K, u32>, key: K) -> u32 {
    let next = u32::try_from(numbers.len()).unwrap_or(u32::MAX);
    *numbers.entry(key).or_insert(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::keywords;

    #[test]
    fn equal_messages_share_a_number() {
        let t = keywords::standard();
        let mut c = Canonical::default();
        assert!(c.same("VOLT 5", "voltage 5.0", t));
        assert!(c.same("voltage 5.0", ":VOLT +5E0", t));
        assert!(!c.same("VOLT 5", "VOLT 5.01", t));
        assert!(!c.same("DISP:TEXT \"a\"", "disp:text \"A\"", t));
        assert!(c.same("VOLT 5", "VOLT 5", t));
    }

    #[test]
    fn a_full_memo_starts_again_and_stays_right() {
        let t = keywords::standard();
        let mut c = Canonical::default();
        for n in 0..CAPACITY + 10 {
            let text = format!("VOLT {n}");
            assert!(c.same(&text, &format!("volt {n}.0"), t), "{text}");
            assert!(!c.same(&text, &format!("VOLT {}", n + 1), t), "{text}");
        }
        assert!(c.by_text.map.len() <= CAPACITY);
    }

    #[test]
    fn text_memo_computes_once() {
        let mut m = TextMemo::default();
        let mut calls = 0;
        for _ in 0..3 {
            m.get_or_insert_with("a", || {
                calls += 1;
                7
            });
        }
        assert_eq!((calls, m.get_or_insert_with("a", || 0)), (1, 7));
    }
}
