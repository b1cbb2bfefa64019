package io.mimoping.bridge.amqp;

import io.mimoping.hub.dispatch.TestHub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker URL that cannot work is refused with the broker's reason, against the real RabbitMQ (in the hub
 * module's tests, where CI starts it).
 */
class BrokerConnectTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "amqp://guest:guest@127.0.0.1:5672/no-such-vhost | vhost no-such-vhost not found",
            "amqp://guest:wrong@127.0.0.1:5672/              | ACCESS_REFUSED",
            "amqp://guest:guest@127.0.0.1:1/                 | Connection refused"})
    void aUrlThatCannotWorkIsRefusedSayingWhy(String url, String reason) {
        BrokerException e = assertThrows(BrokerException.class, () -> Broker.connect(url, "mimoping-test-refused"));
        assertTrue(e.getMessage().startsWith("cannot connect to RabbitMQ at 127.0.0.1:"), e.getMessage());
        assertTrue(e.getMessage().contains(reason), "the reason, '" + reason + "': " + e.getMessage());
    }

    /** The broker the hub's tests use is there: the refusals above are the URLs', not a missing broker's. */
    @Test
    void theBrokerItselfAnswers() {
        Broker.connect(TestHub.BROKER_URL, "mimoping-test-accepted").close();
    }
}
