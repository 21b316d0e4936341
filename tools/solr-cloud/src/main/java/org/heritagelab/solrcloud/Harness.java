package org.heritagelab.solrcloud;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;
import org.apache.zookeeper.server.ServerConfig;
import org.apache.zookeeper.server.ZooKeeperServerMain;

/**
 * One process of the SolrCloud test harness: either the ZooKeeper ensemble of one, or one Solr
 * node. Each runs in its own JVM (started by scripts/solr-cloud), so that a test can SIGKILL a
 * single node and watch the cluster fail over, as it would on real machines.
 *
 * <pre>
 *   java -cp ... org.heritagelab.solrcloud.Harness zk   DATA_DIR ZK_PORT
 *   java -cp ... org.heritagelab.solrcloud.Harness node SOLR_HOME PORT ZK_HOST
 * </pre>
 */
public final class Harness {
    /** The solr.xml of every node: SolrCloud mode, loopback only, the given port and context. */
    static final String SOLR_XML = String.join("\n",
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>",
        "<solr>",
        "  <str name=\"allowPaths\">${solr.allowPaths:}</str>",
        "  <solrcloud>",
        "    <str name=\"host\">127.0.0.1</str>",
        "    <int name=\"hostPort\">${hostPort:8983}</int>",
        "    <str name=\"hostContext\">${hostContext:solr}</str>",
        "    <int name=\"zkClientTimeout\">${zkClientTimeout:30000}</int>",
        "    <int name=\"distribUpdateSoTimeout\">600000</int>",
        "    <int name=\"distribUpdateConnTimeout\">60000</int>",
        "  </solrcloud>",
        "</solr>",
        "");

    private Harness() {}

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("zk")) {
            runZooKeeper(Path.of(args[1]), Integer.parseInt(args[2]));
        } else if (args.length >= 4 && args[0].equals("node")) {
            runNode(Path.of(args[1]), Integer.parseInt(args[2]), args[3]);
        } else {
            System.err.println("usage: Harness zk DATA_DIR PORT | Harness node SOLR_HOME PORT ZK_HOST");
            System.exit(2);
        }
    }

    static void runZooKeeper(Path dataDir, int port) throws Exception {
        Files.createDirectories(dataDir);
        // Solr's admin UI asks ZooKeeper for its status with four-letter words.
        System.setProperty("zookeeper.4lw.commands.whitelist", "mntr,conf,ruok,srvr");
        System.setProperty("zookeeper.admin.enableServer", "false");
        Path cfg = dataDir.resolve("zoo.cfg");
        Files.writeString(cfg, String.join("\n",
            "tickTime=2000",
            "dataDir=" + dataDir.toAbsolutePath(),
            "clientPortAddress=127.0.0.1",  // loopback only: nothing of the harness faces a network
            "clientPort=" + port,
            "maxClientCnxns=200",
            ""), StandardCharsets.UTF_8);
        ServerConfig config = new ServerConfig();
        config.parse(cfg.toString());
        System.out.println("zookeeper listening on 127.0.0.1:" + port);
        new ZooKeeperServerMain().runFromConfig(config);  // blocks until the process ends
    }

    static void runNode(Path home, int port, String zkHost) throws Exception {
        Files.createDirectories(home);
        Files.writeString(home.resolve("solr.xml"), SOLR_XML, StandardCharsets.UTF_8);
        System.setProperty("zkHost", zkHost);
        System.setProperty("host", "127.0.0.1");
        System.setProperty("solr.log.dir", home.resolve("logs").toString());
        Properties props = new Properties();
        props.setProperty("hostPort", Integer.toString(port));
        props.setProperty("hostContext", "/solr");
        JettyConfig config = JettyConfig.builder().setPort(port).setContext("/solr").stopAtShutdown(true).build();
        JettySolrRunner runner = new JettySolrRunner(home.toString(), props, config);
        runner.start();
        System.out.println("solr node up at " + runner.getBaseUrl());
        Thread.currentThread().join();
    }
}
