#pragma once
// Everything autograd offers, in one include: differentiable ops (gau::add, gau::matmul,
// gau::softmax, gau::reshape, operators + - * /, ...), grad mode guards, Function<T>, checkpoint
// and gradcheck. Grad-free kernels stay in gau::ops.
//
// Naming: the differentiable op has the kernel's name one namespace up (gau::softmax records,
// gau::ops::softmax does not). When an argument's type lives in gau::ops (ops::Unary, ops::Binary,
// ops::Activation, ops::MatmulOptions, ops::CrossEntropyOptions), argument-dependent lookup also
// finds the kernel, so an unqualified call is ambiguous: write gau::matmul(a, b, opt),
// gau::bias_act(x, b, act). In-place kernels (ops::copy_, fill_, binary_, axpy_, matmul_into,
// index_add_) are never recorded; using one on a tensor saved for backward is caught by the
// version check.
#include "autograd/checkpoint.h"
#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/ops_elementwise.h"
#include "autograd/ops_loss.h"
#include "autograd/ops_matmul.h"
#include "autograd/ops_nn.h"
#include "autograd/ops_norm.h"
#include "autograd/ops_reduce.h"
#include "autograd/ops_view.h"
