//! Publisher confirms: the broker acknowledges each published message once it has taken
//! responsibility for it. The outbox cursor moves only past acknowledged messages, so a broker
//! that loses or refuses a message gets it again instead of it being skipped.

use amqprs::callbacks::ChannelCallback;
use amqprs::channel::Channel;
use amqprs::{Ack, BasicProperties, Cancel, CloseChannel, Nack, Return};
use std::collections::BTreeSet;
use tokio::sync::mpsc;

/// One answer of the broker about published messages (delivery tags count from 1 per channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Ack { tag: u64, multiple: bool },
    Nack { tag: u64, multiple: bool },
}

/// The delivery tags published and not yet confirmed.
#[derive(Debug, Default)]
pub struct Unconfirmed {
    tags: BTreeSet<u64>,
}

impl Unconfirmed {
    pub fn published(&mut self, tag: u64) {
        self.tags.insert(tag);
    }

    /// Applies one confirm. A nack of a pending message is an error: the broker did not take it.
    pub fn settle(&mut self, confirm: Confirm) -> Result<(), String> {
        let (tag, multiple, acked) = match confirm {
            Confirm::Ack { tag, multiple } => (tag, multiple, true),
            Confirm::Nack { tag, multiple } => (tag, multiple, false),
        };
        let settled: Vec<u64> = if multiple {
            self.tags.range(..=tag).copied().collect()
        } else {
            self.tags.get(&tag).copied().into_iter().collect()
        };
        for t in &settled {
            self.tags.remove(t);
        }
        if !acked && !settled.is_empty() {
            return Err(format!("the broker refused message {tag}"));
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }
}

/// Forwards the broker's acks and nacks of one channel to the publishing loop.
pub struct ConfirmForwarder(pub mpsc::UnboundedSender<Confirm>);

#[async_trait::async_trait]
impl ChannelCallback for ConfirmForwarder {
    async fn close(
        &mut self,
        _: &Channel,
        close: CloseChannel,
    ) -> Result<(), amqprs::error::Error> {
        tracing::warn!(reason = %close, "the broker closed the AMQP channel");
        Ok(())
    }
    async fn cancel(&mut self, _: &Channel, _: Cancel) -> Result<(), amqprs::error::Error> {
        Ok(())
    }
    async fn flow(&mut self, _: &Channel, _: bool) -> Result<bool, amqprs::error::Error> {
        Ok(true)
    }
    async fn publish_ack(&mut self, _: &Channel, ack: Ack) {
        let _ = self.0.send(Confirm::Ack {
            tag: ack.delivery_tag(),
            multiple: ack.mutiple(),
        });
    }
    async fn publish_nack(&mut self, _: &Channel, nack: Nack) {
        let _ = self.0.send(Confirm::Nack {
            tag: nack.delivery_tag(),
            multiple: nack.multiple(),
        });
    }
    async fn publish_return(&mut self, _: &Channel, _: Return, _: BasicProperties, _: Vec<u8>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(tags: &[u64]) -> Unconfirmed {
        let mut u = Unconfirmed::default();
        for t in tags {
            u.published(*t);
        }
        u
    }

    #[test]
    fn single_acks_settle_their_own_tag_only() {
        let mut u = pending(&[1, 2, 3]);
        u.settle(Confirm::Ack {
            tag: 2,
            multiple: false,
        })
        .unwrap();
        assert_eq!(u.tags.iter().copied().collect::<Vec<_>>(), vec![1, 3]);
    }

    #[test]
    fn a_multiple_ack_settles_every_tag_up_to_it() {
        let mut u = pending(&[1, 2, 3, 4]);
        u.settle(Confirm::Ack {
            tag: 3,
            multiple: true,
        })
        .unwrap();
        assert_eq!(u.tags.iter().copied().collect::<Vec<_>>(), vec![4]);
        u.settle(Confirm::Ack {
            tag: 4,
            multiple: false,
        })
        .unwrap();
        assert!(u.is_empty());
    }

    #[test]
    fn a_nack_of_a_pending_message_is_an_error() {
        let mut u = pending(&[1, 2]);
        assert!(u
            .settle(Confirm::Nack {
                tag: 2,
                multiple: true
            })
            .is_err());
        // A nack about tags already settled (a late duplicate) changes nothing.
        assert!(u
            .settle(Confirm::Nack {
                tag: 2,
                multiple: false
            })
            .is_ok());
    }
}
