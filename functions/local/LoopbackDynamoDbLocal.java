import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * DynamoDB Local's own main (ServerRunner: the same command-line options), but listening on 127.0.0.1 only: the jar
 * has no option for that, and on every address the machine's app containers reach it through their network's
 * gateway. Run in Java's source-file mode by dynamodb-local.ts, which turns its telemetry off.
 */
public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    var jetty = DynamoDBProxyServer.class.getDeclaredField("server");
    jetty.setAccessible(true);
    for (Connector connector : ((Server) jetty.get(proxy)).getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    try {
      proxy.start();
    } catch (Exception e) {
      // A start that fails (its port taken) leaves threads that keep the JVM alive: exit, so the platform sees it
      // and says why at once, rather than after waiting for an answer that never comes.
      e.printStackTrace();
      System.exit(1);
    }
  }
}
