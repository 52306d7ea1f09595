//! Live streams held open, counted in total and per client address, so that one client (or
//! many) cannot hold every connection the server has. A slot is given back when the stream that
//! holds it is dropped, whichever way it ends.

use crate::error::AppError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Streams open at once on this server.
pub const MAX_STREAMS: usize = 1000;
/// Streams open at once from one address.
pub const MAX_STREAMS_PER_ADDRESS: usize = 16;

#[derive(Clone, Debug)]
pub struct StreamSlots {
    counts: Arc<Mutex<Counts>>,
    /// How many slots were given back so far, to wait for one.
    released: Arc<watch::Sender<u64>>,
}

impl Default for StreamSlots {
    fn default() -> Self {
        StreamSlots {
            counts: Arc::default(),
            released: Arc::new(watch::Sender::new(0)),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A held slot; dropping it gives the slot back.
#[derive(Debug)]
pub struct StreamSlot {
    slots: StreamSlots,
    address: IpAddr,
}

impl StreamSlots {
    /// A slot for a stream from `address`, or `Busy` when the server or the address has all
    /// it may hold.
    pub fn take(&self, address: IpAddr) -> Result<StreamSlot, AppError> {
        let mut counts = self.lock();
        let mine = counts.by_address.get(&address).copied().unwrap_or(0);
        if counts.total >= MAX_STREAMS || mine >= MAX_STREAMS_PER_ADDRESS {
            return Err(AppError::Busy);
        }
        counts.total += 1;
        counts.by_address.insert(address, mine + 1);
        Ok(StreamSlot {
            slots: self.clone(),
            address,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Streams `address` holds open.
    pub fn held_by(&self, address: IpAddr) -> usize {
        self.lock().by_address.get(&address).copied().unwrap_or(0)
    }

    /// Resolves once `address` holds fewer than `count` streams (a stream is given back when
    /// the server notices its client went away).
    pub async fn until_fewer_than(&self, address: IpAddr, count: usize) {
        let mut released = self.released.subscribe();
        let _ = released.wait_for(|_| self.held_by(address) < count).await;
    }

    #[cfg(test)]
    fn open(&self) -> usize {
        self.lock().total
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        {
            let mut counts = self.slots.lock();
            counts.total = counts.total.saturating_sub(1);
            if let Some(mine) = counts.by_address.get_mut(&self.address) {
                *mine -= 1;
                if *mine == 0 {
                    counts.by_address.remove(&self.address);
                }
            }
        }
        self.slots.released.send_modify(|n| *n += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_cannot_take_every_slot_and_a_dropped_stream_gives_its_slot_back() {
        let slots = StreamSlots::default();
        let me: IpAddr = "198.51.100.1".parse().unwrap();
        let other: IpAddr = "198.51.100.2".parse().unwrap();
        let held: Vec<_> = (0..MAX_STREAMS_PER_ADDRESS)
            .map(|_| slots.take(me).unwrap())
            .collect();
        assert_eq!(slots.take(me).unwrap_err(), AppError::Busy);
        let theirs = slots.take(other).unwrap();
        drop(held);
        assert_eq!(slots.open(), 1);
        assert!(slots.take(me).is_ok());
        drop(theirs);
    }
}
