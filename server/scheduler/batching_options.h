// Batching knobs of one model, filled from flags or the config file.
#ifndef HEED_SERVER_SCHEDULER_BATCHING_OPTIONS_H_
#define HEED_SERVER_SCHEDULER_BATCHING_OPTIONS_H_

#include "absl/time/time.h"

namespace heed::server {

struct BatchingOptions {
  int max_batch_size = 32;                                 // items per batch / step
  int max_batch_tokens = 1024;                             // tokens per dynamic batch
  absl::Duration max_queue_delay = absl::Milliseconds(2);  // wait to fill a batch
  int max_queue_size = 256;                                // beyond: RESOURCE_EXHAUSTED
  // The latency bound of the queue: once the measured service time says the
  // queued work takes longer than this, new requests get RESOURCE_EXHAUSTED.
  // max_queue_size stays the memory bound. Zero turns it off.
  absl::Duration max_queue_wait = absl::Seconds(1);
  int max_tokens_in_flight = 16384;  // continuous batching cap
};

}  // namespace heed::server

#endif  // HEED_SERVER_SCHEDULER_BATCHING_OPTIONS_H_
