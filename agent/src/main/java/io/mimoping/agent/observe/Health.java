package io.mimoping.agent.observe;

import java.util.List;

/**
 * How the process is doing, from its own checks: what {@code /health/live}, {@code /health/ready}, the
 * systemd watchdog and {@code STATUS=} report.
 *
 * @param liveness  what must hold for the process to be worth keeping (a restart would not fix them otherwise)
 * @param readiness what must hold, besides, for it to do its work now
 * @param status    one line for a person: what it does or waits for
 */
public record Health(List<Check> liveness, List<Check> readiness, String status) {

    /**
     * One check.
     *
     * @param name   short name, such as {@code engine} or {@code broker}
     * @param ok     whether it holds
     * @param detail why, for a person
     */
    public record Check(String name, boolean ok, String detail) {
    }

    public Health {
        liveness = List.copyOf(liveness);
        readiness = List.copyOf(readiness);
    }

    public boolean live() {
        return liveness.stream().allMatch(Check::ok);
    }

    public boolean ready() {
        return live() && readiness.stream().allMatch(Check::ok);
    }
}
