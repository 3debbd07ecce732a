//! The seeds' workflow end to end: record a bus, save, replay the recording into a strategy
//! with a changed parameter while recording its decisions, and compare with the original.

use replay_events::{EventRecorder, EventReplayer, Recording, Speed, compare};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Market {
    Price { symbol: String, price: f64 },
}

#[derive(Clone, Debug, Serialize)]
enum Decision {
    Buy { price: f64 },
    Sell { price: f64 },
}

/// A toy strategy: buy below `low`, sell above `high`.
fn decide(price: f64, low: f64, high: f64) -> Option<Decision> {
    if price < low {
        Some(Decision::Buy { price })
    } else if price > high {
        Some(Decision::Sell { price })
    } else {
        None
    }
}

async fn run_strategy(
    recording: &std::path::Path,
    low: f64,
    high: f64,
    dir: &std::path::Path,
    name: &str,
) -> Recording {
    let decisions = EventRecorder::new(name, dir);
    let out = decisions.clone();
    EventReplayer::open(recording)
        .unwrap()
        .speed(Speed::times(100.0).unwrap())
        .replay_typed(move |event: replay_events::TypedEvent<Market>| {
            if let Some(Market::Price { price, .. }) = event.payload.typed()
                && let Some(d) = decide(price, low, high)
            {
                out.record(&d, "Strategy").unwrap();
            }
            async {}
        })
        .await
        .unwrap();
    decisions.stop();
    decisions.recording()
}

#[tokio::test(start_paused = true)]
async fn record_replay_and_compare_a_what_if() {
    let dir = tempfile::tempdir().unwrap();

    // 1. Record the market feed as the bot publishes it (the publisher is unchanged).
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Market>(64);
    let recording = EventRecorder::new("btc_volatility_spike", dir.path()).guard();
    let tx = recording.wrap_sender(tx, "MarketDataAgent");
    for (i, price) in [100.0, 96.0, 104.0, 99.0, 107.0, 94.0]
        .into_iter()
        .enumerate()
    {
        tokio::time::sleep(std::time::Duration::from_millis(if i == 0 {
            0
        } else {
            500
        }))
        .await;
        tx.send(Market::Price {
            symbol: "BTC".into(),
            price,
        })
        .await
        .unwrap();
        rx.recv().await.unwrap();
    }
    let path = recording.finish().await.unwrap();
    let saved = Recording::load(&path).unwrap();
    assert_eq!(saved.events.len(), 6);
    assert_eq!(saved.events[5].timestamp_offset_ms.as_u64(), Some(2500));

    // 2. Replay with the original and with a wider band; record the decisions.
    let original = run_strategy(&path, 97.0, 103.0, dir.path(), "original").await;
    let what_if = run_strategy(&path, 95.0, 105.0, dir.path(), "wider_band").await;

    // 3. Compare outcomes with the original.
    let diff = compare(&original, &what_if);
    assert!(!diff.equal);
    let changes: Vec<(&str, usize, usize)> = diff
        .count_changes
        .iter()
        .map(|c| (c.name.as_str(), c.before, c.after))
        .collect();
    assert_eq!(changes, [("Buy", 2, 1), ("Sell", 2, 1)]);
    let removed: Vec<&str> = diff.removed.iter().map(|e| e.event_data.get()).collect();
    assert_eq!(removed, ["{\"price\":96.0}", "{\"price\":104.0}"]);
    assert!(diff.added.is_empty());
    assert_eq!(diff.first_divergence.unwrap().left_index, Some(1));
}
