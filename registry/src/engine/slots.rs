//! Copy slots of one region: at most N copies at once, handed out by priority (largest image
//! first, the longest-processing-time rule that keeps the last copies short) and, among equals,
//! in arrival order.

use std::{
    cmp::Ordering,
    collections::BinaryHeap,
    sync::{Arc, Mutex},
};

use tokio::sync::oneshot;

struct Waiter {
    priority: i64,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> Ordering {
        // Higher priority first; among equals, the earlier arrival.
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

struct State {
    free: usize,
    seq: u64,
    waiting: BinaryHeap<Waiter>,
}

/// The slots of one region.
#[derive(Clone)]
pub struct Slots(Arc<Mutex<State>>);

/// A held slot; dropping it hands the slot to the best waiter.
pub struct Slot(Arc<Mutex<State>>);

impl Slots {
    pub fn new(n: usize) -> Self {
        Slots(Arc::new(Mutex::new(State {
            free: n,
            seq: 0,
            waiting: BinaryHeap::new(),
        })))
    }

    /// Waits for a slot; higher `priority` goes first.
    pub async fn acquire(&self, priority: i64) -> Slot {
        let rx = {
            let mut st = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if st.free > 0 && st.waiting.is_empty() {
                st.free -= 1;
                return Slot(self.0.clone());
            }
            let (tx, rx) = oneshot::channel();
            st.seq += 1;
            let seq = st.seq;
            st.waiting.push(Waiter {
                priority,
                seq,
                wake: tx,
            });
            rx
        };
        // The sender is only dropped after handing us the slot, or never (the slots live as long
        // as the engine); a closed channel means the engine is going away, and the slot is ours.
        let _ = rx.await;
        Slot(self.0.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut st = self.0.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(w) = st.waiting.pop() {
            if w.wake.send(()).is_ok() {
                return;
            }
        }
        st.free += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn larger_first_then_arrival_order() {
        let slots = Slots::new(1);
        let held = slots.acquire(0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, prio) in [("small", 10), ("big", 90), ("mid_a", 50), ("mid_b", 50)] {
            let (slots, order) = (slots.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _slot = slots.acquire(prio).await;
                order.lock().unwrap().push(name);
            }));
            tokio::task::yield_now().await;
        }
        // Let every task queue up before the slot frees.
        while slots.0.lock().unwrap().waiting.len() < 4 {
            tokio::task::yield_now().await;
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            vec!["big", "mid_a", "mid_b", "small"]
        );
    }

    #[tokio::test]
    async fn abandoned_waiters_do_not_leak_slots() {
        let slots = Slots::new(1);
        let held = slots.acquire(0).await;
        let waiter = {
            let slots = slots.clone();
            tokio::spawn(async move {
                let _s = slots.acquire(5).await;
                std::future::pending::<()>().await;
            })
        };
        while slots.0.lock().unwrap().waiting.is_empty() {
            tokio::task::yield_now().await;
        }
        waiter.abort();
        let _ = waiter.await;
        drop(held);
        // The aborted waiter's turn is skipped: the slot is free again.
        let _again = slots.acquire(0).await;
    }
}
