#pragma once
// Everything autograd offers, in one include: differentiable ops (gau::add, gau::matmul,
// gau::softmax, gau::reshape, operators + - * /, ...), grad mode guards, Function<T>, checkpoint
// and gradcheck. Grad-free kernels stay in gau::ops.
#include "autograd/checkpoint.h"
#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/ops_elementwise.h"
#include "autograd/ops_matmul.h"
#include "autograd/ops_nn.h"
#include "autograd/ops_reduce.h"
#include "autograd/ops_view.h"
