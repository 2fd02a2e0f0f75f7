package org.deltagrad.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** The test JVM's one SparkContext: two task slots, and up to four attempts per task so that a failure is retried. */
final class SharedSpark {
    private SharedSpark() {}

    /** Task slots of the shared context. */
    static final int SLOTS = 2;

    private static JavaSparkContext context;

    static synchronized JavaSparkContext get() {
        if (context == null) {
            SparkConf conf = new SparkConf().setMaster("local[" + SLOTS + ",4]").setAppName("deltagrad-spark tests")
                    .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
                    .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
            context = new JavaSparkContext(conf);
            Runtime.getRuntime().addShutdownHook(new Thread(context::stop));
        }
        return context;
    }
}
