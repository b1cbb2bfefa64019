package io.mimoping.hub.http;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.mimoping.hub.stream.StreamLimits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}; nothing
 * downloaded): a task started from the page fills the chart and the per-target table live, and an unknown
 * agent's error is shown. Screenshots go to {@code hub/target/dashboard.png} and {@code hub/target/api.png}.
 */
@ServerTest
@Timeout(180)
class DashboardTest {

    private static final EmbeddedHub HUB = new EmbeddedHub();

    private final WebServer server;
    private ChromeDriver browser;

    DashboardTest(WebServer server) {
        this.server = server;
    }

    @SetUpServer
    static void server(WebServerConfig.Builder builder) {
        HUB.setup(builder, StreamLimits.DEFAULTS);
    }

    @AfterAll
    static void close() {
        HUB.close();
    }

    @BeforeEach
    void openBrowser() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1050");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    private void fill(String id, String value) {
        WebElement field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(value);
    }

    private void screenshot(String name) throws IOException {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), Path.of("target", name), StandardCopyOption.REPLACE_EXISTING);
    }

    private int points() {
        return Integer.parseInt(browser.findElement(By.id("chart")).getDomAttribute("data-points"));
    }

    @Test
    void aTaskStartedFromThePageFillsTheChartAndStatsLiveAndShowsAnUnknownAgent() throws Exception {
        // an agent registers over /ws as agents do: the page lists it with what /conns says about it
        HttpClient http = HttpClient.newHttpClient();
        WebSocket agent = http.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/ws"), new WebSocket.Listener() { })
                .join();
        agent.sendText("{\"type\":\"register\",\"name\":\"lab-agent\",\"version\":\"9.9.9\","
                + "\"labels\":{\"site\":\"lab\"}}", true).join();
        browser.get(url("/"));
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30), Duration.ofMillis(50));
        wait.until(b -> b.findElement(By.id("hub-status")).getText().contains("up"));
        assertEquals("hub", browser.findElement(By.cssSelector("#agents li .name")).getText(), "the hub itself is listed");
        WebElement listed = wait.until(b -> b.findElement(By.cssSelector("#agents li[data-agent=lab-agent]")));
        assertTrue(listed.getText().contains("9.9.9"), listed.getText());
        assertTrue(listed.getText().contains("labels.site lab"), listed.getText());

        fill("targets", "127.0.0.1\n::1");
        fill("from", "hub, ghost");
        fill("count", "30");
        fill("interval", "100");
        fill("timeout", "1000");
        browser.findElement(By.id("start")).click();

        // live: points appear while the task still runs
        wait.until(b -> points() > 0);
        assertEquals("running", browser.findElement(By.id("task-state")).getText(), "points arrive as replies do");
        int early = points();
        assertTrue(early < 60, "not all at once: " + early);
        wait.until(b -> b.findElement(By.id("task-state")).getText().equals("finished"));
        assertEquals(60, points(), "30 replies from each of 2 targets on the chart");
        assertEquals(1, browser.findElements(By.cssSelector("#chart canvas")).size(), "drawn by uPlot");

        List<WebElement> rows = browser.findElements(By.cssSelector("#stats tbody tr"));
        assertEquals(2, rows.size());
        for (WebElement row : rows) {
            List<WebElement> cells = row.findElements(By.tagName("td"));
            assertEquals("hub", cells.get(0).getText());
            assertTrue(List.of("127.0.0.1", "::1").contains(cells.get(1).getText()), cells.get(1).getText());
            assertEquals("30", cells.get(3).getText(), "sent");
            assertEquals("30", cells.get(4).getText(), "received");
            assertEquals("0.0 %", cells.get(5).getText(), "loss");
            assertEquals("0", cells.get(6).getText(), "timeouts");
            assertTrue(Double.parseDouble(cells.get(9).getText()) > 0, "avg rtt: " + cells.get(9).getText());
        }
        WebElement error = browser.findElement(By.cssSelector("#errors li[data-code=agent_unknown]"));
        assertTrue(error.getText().contains("agent ghost"), error.getText());
        assertTrue(browser.findElement(By.id("task-progress")).getText().contains("60 received"),
                browser.findElement(By.id("task-progress")).getText());
        wait.until(b -> !b.findElements(By.cssSelector("#tasks li .badge.finished")).isEmpty());
        screenshot("dashboard.png");
        agent.abort();
        http.shutdownNow();
    }

    /** A link to a task the hub does not know (or has forgotten) says so; it does not pass for a running task. */
    /**
     * Any page the operator opens may open a WebSocket to the hub. On {@code /ws} it could register agents and hold
     * their names, so the hub refuses browsers there: a real browser's socket never opens (even from the hub's own
     * page), where an agent would be answered, here with 4003 (this hub has no broker).
     */
    @Test
    void aBrowserPageCannotOpenTheAgentsWebSocket() {
        browser.get(url("/"));
        browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(15));
        Object outcome = browser.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const ws = new WebSocket('ws://127.0.0.1:%d/ws');
                let opened = false;
                ws.onopen = () => {
                    opened = true;
                    ws.send(JSON.stringify({type: 'register', name: 'from-a-page'}));
                    setTimeout(() => done('opened, still open after 2 s'), 2000);
                };
                ws.onclose = (event) => done((opened ? 'opened' : 'never opened') + ', closed ' + event.code);
                """.formatted(server.port()));
        assertEquals("never opened, closed 1006", outcome);
    }

    @Test
    void aTaskTheHubDoesNotKnowIsShownAsUnknown() {
        browser.get(url("/#0123456789abcdef"));
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30), Duration.ofMillis(50));
        wait.until(b -> b.findElement(By.id("task-state")).getText().equals("unknown"));
        assertTrue(browser.findElement(By.id("errors")).getText().contains("this hub has no task 0123456789abcdef"),
                browser.findElement(By.id("errors")).getText());
        assertFalse(browser.findElement(By.id("cancel")).isDisplayed(), "nothing to cancel");
    }

    @Test
    void theApiPageRendersTheOpenApiDocument() throws Exception {
        browser.get(url("/api/"));
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30), Duration.ofMillis(100));
        wait.until(b -> b.findElements(By.cssSelector(".opblock")).size() >= 9);
        String page = browser.findElement(By.id("swagger")).getText();
        for (String path : List.of("/ping-task", "/tasks", "/tasks/{id}", "/tasks/{id}/events", "/tasks/{id}/ws", "/conns")) {
            assertTrue(page.contains(path), "documents " + path);
        }
        assertTrue(browser.findElements(By.cssSelector(".errors-wrapper")).isEmpty(), "the document parses cleanly");
        screenshot("api.png");
    }
}
