#pragma once
// Backend kernels of core/ops/elementwise.h, in gau::ops::cpu (cpu/elementwise_*.cpp) and
// gau::ops::cuda (cuda/elementwise_*.cu). Same names and meaning as the public ops; the
// dispatcher (elementwise.cpp) has already checked dtypes, devices and shapes, and bumps versions
// of in-place results.
#include "core/ops/backend.h"
#include "core/ops/elementwise.h"

GAU_BACKEND_KERNELS(
    Tensor unary(Unary op, const Tensor& x);                                // x [*]
    Tensor unary_backward(Unary op, const Tensor& x, const Tensor& d_y);    // x, d_y [*]
    Tensor binary(Binary op, const Tensor& a, const Tensor& b);             // a, b broadcast together
    Tensor binary_scalar(Binary op, const Tensor& a, double s);             // a [*]
    void binary_(Binary op, const Tensor& a, const Tensor& b);              // a [*], b broadcasts to a
    void binary_scalar_(Binary op, const Tensor& a, double s);              // a [*]
    void axpy_(const Tensor& a, const Tensor& b, double alpha);             // a [*], b broadcasts to a
    Tensor compare(Compare op, const Tensor& a, const Tensor& b);           // a, b broadcast together
    Tensor compare_scalar(Compare op, const Tensor& a, double s);           // a [*]
    Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);     // all three broadcast
    Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);  // x [*], mask broadcasts to x
    Tensor bias_act(const Tensor& x, const Tensor& bias, Activation act);   // x [*, d], bias [d]
    Tensor bias_act_backward(const Tensor& x, const Tensor& bias, Activation act,
                             const Tensor& d_y);                                    // x, d_y [*, d], bias [d]
    Tensor scale_offset(const Tensor& x, const Tensor& gamma, const Tensor& beta);  // x [*, d], gamma, beta [d]
)
