package org.peft4j.peft.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The top-r singular triplets of a weight W [out, in], for PiSSA's initialisation. DJL 0.36 exposes
 * no SVD (neither {@code NDArray} nor the PyTorch JNI has one), so this runs subspace iteration with
 * Rayleigh–Ritz (Halko et al. 2011, Alg. 4.4 / 5.1) on the smaller Gram matrix: the big products
 * run in the engine in float64, only k×k and n×k work (k ≈ 2r) happens in Java. It runs once, at
 * initialisation, never on the forward path.
 *
 * @param u              left singular vectors [out, r], float32
 * @param singularValues σ₁ ≥ … ≥ σ_r
 * @param v              right singular vectors [in, r], float32
 */
record TopSvd(NDArray u, float[] singularValues, NDArray v) {

    private static final int MAX_ITERATIONS = 300;

    static TopSvd of(NDArray weight, int r) {
        NDManager manager = weight.getManager();
        long out = weight.getShape().get(0);
        long in = weight.getShape().get(1);
        if (r > Math.min(out, in)) {
            throw new org.peft4j.config.ConfigException("lora.r = " + r + " exceeds min(out, in) = " + Math.min(out, in)
                    + " of a " + out + "×" + in + " weight, so PiSSA has no top-r SVD; lower r");
        }
        try (NDScope ignored = new NDScope()) {
            NDArray w = weight.toType(DataType.FLOAT64, true);
            boolean rightSide = out >= in;                                   // eigenvectors of WᵀW are V
            NDArray gram = rightSide ? w.transpose().matMul(w) : w.matMul(w.transpose());
            int n = (int) gram.getShape().get(0);
            int k = Math.min(n, 2 * r + 8);
            double[][] q = orthonormalColumns(toRows(manager.randomNormal(new Shape(n, k), DataType.FLOAT64), n, k));
            double[] previous = null;
            double[][] ritzVectors = null;
            double[] ritzValues = null;
            for (int it = 0; it < MAX_ITERATIONS; it++) {
                NDArray qa = fromRows(manager, q);
                NDArray gq = gram.matMul(qa);                                 // [n, k]
                double[][] t = toRows(qa.transpose().matMul(gq), k, k);       // Rayleigh quotient Qᵀ G Q
                double[][] y = new double[k][k];
                ritzValues = SymmetricEigen.decompose(t, y);
                ritzVectors = multiply(q, y);
                if (previous != null && converged(previous, ritzValues, r)) {
                    break;
                }
                previous = ritzValues;
                q = orthonormalColumns(toRows(gq, n, k));
            }
            float[] sigma = new float[r];
            double[][] side = new double[n][r];
            for (int j = 0; j < r; j++) {
                sigma[j] = (float) Math.sqrt(Math.max(ritzValues[j], 0));
                for (int i = 0; i < n; i++) {
                    side[i][j] = ritzVectors[i][j];
                }
            }
            NDArray known = fromRows(manager, side);                          // [n, r]
            // the other side: W v / σ (or Wᵀ u / σ); a zero σ leaves a zero vector, which B A then ignores
            NDArray inv = manager.create(invert(sigma)).toType(DataType.FLOAT64, false);
            NDArray other = (rightSide ? w.matMul(known) : w.transpose().matMul(known)).mul(inv);
            NDArray u = (rightSide ? other : known).toType(DataType.FLOAT32, false);
            NDArray v = (rightSide ? known : other).toType(DataType.FLOAT32, false);
            NDScope.unregister(u, v);
            return new TopSvd(u, sigma, v);
        }
    }

    private static boolean converged(double[] before, double[] now, int r) {
        for (int j = 0; j < r; j++) {
            if (Math.abs(now[j] - before[j]) > 1e-12 * Math.max(Math.abs(now[0]), 1e-300)) {
                return false;
            }
        }
        return true;
    }

    private static double[] invert(float[] s) {
        double[] out = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i] > 0 ? 1.0 / s[i] : 0.0;
        }
        return out;
    }

    static double[][] toRows(NDArray a, int rows, int cols) {
        double[] flat = a.toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] out = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(flat, i * cols, out[i], 0, cols);
        }
        return out;
    }

    static NDArray fromRows(NDManager manager, double[][] rows) {
        int cols = rows[0].length;
        double[] flat = new double[rows.length * cols];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * cols, cols);
        }
        return manager.create(flat, new Shape(rows.length, cols));
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        int k = b.length;
        int m = b[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int l = 0; l < k; l++) {
                double x = a[i][l];
                for (int j = 0; j < m; j++) {
                    out[i][j] += x * b[l][j];
                }
            }
        }
        return out;
    }

    /** Modified Gram–Schmidt over the columns; a column that vanishes is replaced by a fresh unit vector. */
    static double[][] orthonormalColumns(double[][] a) {
        int n = a.length;
        int k = a[0].length;
        for (int j = 0; j < k; j++) {
            for (int pass = 0; pass < 2; pass++) {                            // twice is enough (Giraud et al. 2005)
                for (int p = 0; p < j; p++) {
                    double dot = 0;
                    for (int i = 0; i < n; i++) {
                        dot += a[i][p] * a[i][j];
                    }
                    for (int i = 0; i < n; i++) {
                        a[i][j] -= dot * a[i][p];
                    }
                }
            }
            double norm = 0;
            for (int i = 0; i < n; i++) {
                norm += a[i][j] * a[i][j];
            }
            norm = Math.sqrt(norm);
            if (norm < 1e-300) {
                for (int i = 0; i < n; i++) {
                    a[i][j] = i == j % n ? 1 : 0;
                }
                j--;                                                           // re-orthogonalise the replacement
                continue;
            }
            for (int i = 0; i < n; i++) {
                a[i][j] /= norm;
            }
        }
        return a;
    }
}
