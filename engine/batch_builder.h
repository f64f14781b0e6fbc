// build_batch_inputs: turns a ScheduledBatch into the BatchInputs every runner reads (built once per step on
// the CPU, so all backends see identical inputs). Call it after Scheduler::schedule() and before
// Scheduler::update(): it reads each sequence's num_computed_tokens as the chunk's start.
#pragma once

#include "engine/batch_inputs.h"
#include "engine/scheduled_batch.h"

namespace gptoss {

BatchInputs build_batch_inputs(const ScheduledBatch& batch, int block_size);

}  // namespace gptoss
