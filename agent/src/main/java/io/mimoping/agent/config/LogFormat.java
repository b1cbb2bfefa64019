package io.mimoping.agent.config;

/** How a process writes its log. */
public enum LogFormat {
    /** One readable line a record. */
    TEXT,
    /** One JSON object a line ({@link io.mimoping.agent.observe.JsonLogFormatter}). */
    JSON
}
