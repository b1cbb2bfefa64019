package io.mimoping.bridge.amqp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The latest keys seen, at most a fixed number of them: for acting once on messages the broker may
 * deliver again (after a failover, or published again by their sender). Thread-safe.
 */
public final class RecentKeys {

    private final Map<String, Boolean> keys;

    /** Remembers the latest {@code capacity} keys; older ones are forgotten. */
    public RecentKeys(int capacity) {
        keys = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Remembers {@code key}; whether it is new (not among the keys remembered). */
    public synchronized boolean add(String key) {
        return keys.put(key, Boolean.TRUE) == null;
    }
}
