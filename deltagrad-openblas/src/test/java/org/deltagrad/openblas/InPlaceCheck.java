package org.deltagrad.openblas;

import org.deltagrad.kernels.Gemm;
import org.deltagrad.kernels.GemmCase;
import org.deltagrad.kernels.Parallel;

/**
 * The GEMM correctness table through OpenBLAS's in-place path. A main, so that {@link InPlaceBlasTest} can run it
 * on a JDK 22+ when the build's own JDK is older; exits non-zero (an assertion error) on any wrong element, and on
 * a JDK where the in-place path does not come up.
 */
final class InPlaceCheck {
    private InPlaceCheck() {
    }

    public static void main(String[] args) {
        int products = run();
        System.out.println("in place: " + products + " products checked, small pieces " + OpenBlasGemm.SMALL_PIECES);
    }

    /** Checks every case in float and double, on one and two threads; returns the number of products. */
    static int run() {
        if (!InPlaceBlas.AVAILABLE) {
            throw new AssertionError("the in-place path is not available here: " + InPlaceBlas.UNAVAILABLE_BECAUSE);
        }
        int threads = Parallel.threads();
        Gemm.useBackend(new OpenBlasGemm());
        int products = 0;
        try {
            for (GemmCase g : GemmCase.table()) {
                OpenBlasGemmTest.checkSgemm(g);
                OpenBlasGemmTest.checkDgemm(g);
                products += 4;
                if (OpenBlasGemm.SMALL_PIECES && OpenBlasGemm.smallPieces(g.transA(), g.transB(), g.m(), g.n(), g.k()) != 0) {
                    OpenBlasGemmTest.checkSameBitsOnOneAndTwoThreads(g); // the pieces depend on the shape alone
                    products += 2;
                }
            }
        } finally {
            Gemm.useBackend(null);
            Parallel.setThreads(threads);
        }
        return products;
    }
}
