#pragma once
// gau's public API in one include: `#include <gau/gau.h>` once gau is installed (the per-module
// headers it lists are installed beside it and can be included on their own, e.g.
// <gau/layers/module.h>). docs/api.md says what is public and what stays internal.
//
// The core: tensors, devices, dtypes, allocation and the grad-free ops (gau::ops).
#include "core/version.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "core/ops/copy.h"
#include "core/ops/elementwise.h"
#include "core/ops/factory.h"
#include "core/ops/index.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"

// Autograd: differentiable ops (gau::add, gau::matmul, ...), Function<T>, checkpoint, gradcheck.
#include "autograd/functions.h"

// Layers and models, the registry and plugins.
#include "layers/block.h"
#include "layers/embedding.h"
#include "layers/ffn.h"
#include "layers/flash_block.h"
#include "layers/flat_parameters.h"
#include "layers/gau.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/mha.h"
#include "layers/models/language_model.h"
#include "layers/models/masked_lm.h"
#include "layers/module.h"
#include "layers/module_gradcheck.h"
#include "layers/norm.h"
#include "layers/plugin.h"
#include "layers/registry.h"
#include "layers/transformer_pp.h"

// Optimizers, schedules, clipping and mixed precision.
#include "optim/clip.h"
#include "optim/factory.h"
#include "optim/loss_scaler.h"
#include "optim/optimizer.h"
#include "optim/precision.h"
#include "optim/schedule.h"

// The trainer behind `gau train`, and its data, checkpoints and generation.
#include "trainers/checkpoint.h"
#include "trainers/data/loader.h"
#include "trainers/data/tokenizer.h"
#include "trainers/generate.h"
#include "trainers/trainer.h"

// Data parallelism.
#include "distributed/communicator.h"
#include "distributed/data_parallel.h"
