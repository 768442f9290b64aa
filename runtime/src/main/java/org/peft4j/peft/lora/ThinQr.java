package org.peft4j.peft.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;

/**
 * The first r columns of Q and rows of R in W = Q R, for OLoRA's initialisation: Q_r is an
 * orthonormal basis of W's first r columns (Gram–Schmidt in float64), and R_r = Q_rᵀ W. The product
 * Q_r R_r, the projection of W onto those columns, is what the base weight loses; it does not
 * depend on the sign convention of the factorisation, so it equals what PyTorch's
 * {@code torch.linalg.qr} gives up to rounding. Runs once, at initialisation.
 *
 * @param q Q_r [rows, r], float32
 * @param r R_r [r, cols], float32
 */
record ThinQr(NDArray q, NDArray r) {

    static ThinQr of(NDArray weight, int rank) {
        NDManager manager = weight.getManager();
        int rows = (int) weight.getShape().get(0);
        int cols = (int) weight.getShape().get(1);
        if (rank > Math.min(rows, cols)) {
            throw new org.peft4j.config.ConfigException("lora.r = " + rank + " exceeds min(out, in) = "
                    + Math.min(rows, cols) + " of a " + rows + "×" + cols + " weight, so OLoRA has no rank-r QR; lower r");
        }
        try (NDScope ignored = new NDScope()) {
            NDArray w = weight.toType(DataType.FLOAT64, true);
            double[][] all = TopSvd.toRows(w, rows, cols);
            double[][] first = new double[rows][rank];
            for (int i = 0; i < rows; i++) {
                System.arraycopy(all[i], 0, first[i], 0, rank);
            }
            NDArray q = TopSvd.fromRows(manager, TopSvd.orthonormalColumns(first));          // [rows, r]
            NDArray r = q.transpose().matMul(w);                                              // [r, cols]
            NDArray q32 = q.toType(DataType.FLOAT32, false);
            NDArray r32 = r.toType(DataType.FLOAT32, false);
            NDScope.unregister(q32, r32);
            return new ThinQr(q32, r32);
        }
    }
}
