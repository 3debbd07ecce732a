//! One client's messages run through the device in order, one at a time; a device clear
//! drops what is queued and whatever a message in progress would still answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::device::{self, MessageDevice, SharedDevice};

/// A reply the device produced.
pub(crate) struct Reply {
    /// The clear generation the message was sent in.
    pub(crate) generation: u64,
    /// The client's tag for the message (HiSLIP message id; 0 for VXI-11).
    pub(crate) tag: u32,
    /// The reply bytes with the device's read terminator.
    pub(crate) data: Vec<u8>,
}

struct Job {
    generation: u64,
    tag: u32,
    message: Vec<u8>,
}

/// The queue of one link (VXI-11) or session (HiSLIP).
pub(crate) struct Queue<D: ?Sized> {
    device: SharedDevice<D>,
    generation: Arc<AtomicU64>,
    jobs: mpsc::UnboundedSender<Job>,
}

impl<D: MessageDevice + ?Sized> Queue<D> {
    /// Starts the worker; replies arrive on the returned receiver. The worker ends when the
    /// queue is dropped.
    pub(crate) fn spawn(
        device: SharedDevice<D>,
        read_term: Arc<[u8]>,
    ) -> (Queue<D>, mpsc::UnboundedReceiver<Reply>) {
        let (jobs, mut job_rx) = mpsc::unbounded_channel::<Job>();
        let (reply_tx, reply_rx) = mpsc::unbounded_channel();
        let generation = Arc::new(AtomicU64::new(0));
        let (dev, generation_w) = (device.clone(), generation.clone());
        tokio::spawn(async move {
            while let Some(job) = job_rx.recv().await {
                if job.generation != generation_w.load(Ordering::SeqCst) {
                    continue;
                }
                let Some(mut data) = device::handle(&dev, job.message).await else {
                    continue;
                };
                data.extend_from_slice(&read_term);
                let reply = Reply {
                    generation: job.generation,
                    tag: job.tag,
                    data,
                };
                if reply_tx.send(reply).is_err() {
                    break;
                }
            }
        });
        (
            Queue {
                device,
                generation,
                jobs,
            },
            reply_rx,
        )
    }

    /// Queues one complete message.
    pub(crate) fn submit(&self, tag: u32, message: Vec<u8>) {
        let _ = self.jobs.send(Job {
            generation: self.generation(),
            tag,
            message,
        });
    }

    /// The current clear generation.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether a reply still counts (no device clear since its message was sent).
    pub(crate) fn is_current(&self, reply: &Reply) -> bool {
        reply.generation == self.generation()
    }

    /// Device clear: queued messages and replies still to come are dropped, and the device
    /// is told.
    pub(crate) async fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let device = self.device.clone();
        let _ = tokio::task::spawn_blocking(move || device::lock(&device).clear()).await;
    }

    /// The device's status byte.
    pub(crate) async fn status_byte(&self) -> u8 {
        let device = self.device.clone();
        tokio::task::spawn_blocking(move || device::lock(&device).status_byte())
            .await
            .unwrap_or(0)
    }
}
