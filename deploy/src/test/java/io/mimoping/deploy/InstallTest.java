package io.mimoping.deploy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator's path: {@code deploy/dist.sh} packs the built tree, {@code deploy/install.sh} from the
 * unpacked archive installs it into a temporary root, the installed launcher runs without Maven, the
 * units pass {@code systemd-analyze verify} and {@code security}, and uninstalling removes it again.
 */
class InstallTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String JAVA_HOME = System.getProperty("java.home");
    private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for (\\S+): ([0-9.]+)");
    /** systemd-analyze security rates 0 (locked down) to 10; our units measured 1.6. */
    private static final double MAX_EXPOSURE = 2.0;

    @TempDir
    static Path work;
    private static Path dist;

    private record Result(int status, String output) {
    }

    private static Result run(Map<String, String> env, Path cwd, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), String.join(" ", command) + " finished");
        return new Result(process.exitValue(), output);
    }

    private static Result ok(Map<String, String> env, String... command) throws IOException, InterruptedException {
        Result result = run(env, work, command);
        assertEquals(0, result.status(), String.join(" ", command) + ":\n" + result.output());
        return result;
    }

    @BeforeAll
    static void packAndUnpack() throws Exception {
        Result packed = ok(Map.of("JAVA_HOME", JAVA_HOME), ROOT.resolve("deploy/dist.sh").toString(),
                work.resolve("out").toString());
        Path archive = Path.of(packed.output().strip());
        assertTrue(archive.getFileName().toString().matches("mimoping-.+\\.tar\\.gz"), archive.toString());
        ok(Map.of(), "tar", "-C", work.toString(), "-xzf", archive.toString());
        try (Stream<Path> unpacked = Files.list(work)) {
            dist = unpacked.filter(p -> p.getFileName().toString().startsWith("mimoping-")).findFirst().orElseThrow();
        }
    }

    @Test
    void installsTheExpectedTreeIntoADestdirAndUninstallsIt() throws Exception {
        Path root = work.resolve("destdir");
        String install = dist.resolve("deploy/install.sh").toString();
        Result installed = ok(Map.of("DESTDIR", root.toString()), install);
        assertTrue(installed.output().contains("systemctl enable --now mimoping-agent.service"), installed.output());
        for (String file : List.of("opt/mimoping/bin/mimoping", "opt/mimoping/lib/mimoping-hub.jar",
                "opt/mimoping/deploy/install.sh", "opt/mimoping/README.md",
                "etc/mimoping/agent.properties", "etc/mimoping/hub.properties",
                "etc/systemd/system/mimoping-agent.service", "etc/systemd/system/mimoping-hub.service")) {
            assertTrue(Files.isRegularFile(root.resolve(file)), file + " installed");
        }
        assertTrue(Files.isExecutable(root.resolve("opt/mimoping/bin/mimoping")));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                root.resolve("etc/mimoping/agent.properties"))), "configs may hold secrets");
        String unit = Files.readString(root.resolve("etc/systemd/system/mimoping-agent.service"));
        assertTrue(unit.contains("\nExecStart=/opt/mimoping/bin/mimoping agent --config /etc/mimoping/agent.properties\n"), unit);
        assertFalse(unit.contains("@PREFIX@") || unit.contains("@SYSCONFDIR@"), "every path filled in");

        // Every jar the manifest names is there: the installed launcher runs both programs, without Maven.
        Path tools = work.resolve("tools");
        Files.createDirectories(tools);
        for (String tool : List.of("bash", "dirname", "sed", "head")) {
            String path = run(Map.of(), work, "bash", "-c", "command -v " + tool).output().strip();
            Files.writeString(tools.resolve(tool), "#!/bin/sh\nexec " + path + " \"$@\"\n");
            tools.resolve(tool).toFile().setExecutable(true);
        }
        Map<String, String> noMaven = Map.of("PATH", tools.toString(), "JAVA_HOME", JAVA_HOME);
        String launcher = root.resolve("opt/mimoping/bin/mimoping").toString();
        assertTrue(ok(noMaven, launcher, "agent", "--help").output().contains("usage: mimoping agent"));
        assertTrue(ok(noMaven, launcher, "hub", "--help").output().contains("usage: mimoping hub"));
        // The units' privileges suffice: an unprivileged user, CAP_NET_RAW as the only (ambient) capability,
        // no new privileges (with Debian's default ping_group_range "1 0", that is raw ICMP sockets).
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Result ping = run(Map.of("JAVA_HOME", JAVA_HOME), work, "setpriv", "--reuid=65534", "--regid=65534",
                "--clear-groups", "--inh-caps=-all,+net_raw", "--ambient-caps=-all,+net_raw",
                "--bounding-set=-all,+net_raw", "--no-new-privs", launcher, "ping", "-c", "1", "127.0.0.1", "::1");
        assertEquals(0, ping.status(), ping.output());
        assertEquals(2, ping.output().lines().filter(line -> line.startsWith("{\"type\":\"pkt_recv\"")).count(), ping.output());
        Result build = run(noMaven, work, launcher, "build");
        assertEquals(2, build.status());
        assertTrue(build.output().contains("this is an installed copy"), build.output());

        // Upgrading keeps an edited config and puts the new example beside it.
        Files.writeString(root.resolve("etc/mimoping/agent.properties"), "node-name = edited\n");
        ok(Map.of("DESTDIR", root.toString()), install);
        assertEquals("node-name = edited\n", Files.readString(root.resolve("etc/mimoping/agent.properties")));
        assertTrue(Files.isRegularFile(root.resolve("etc/mimoping/agent.properties.example")));

        ok(Map.of("DESTDIR", root.toString()), install, "--uninstall");
        assertFalse(Files.exists(root.resolve("opt/mimoping")));
        assertFalse(Files.exists(root.resolve("etc/systemd/system/mimoping-agent.service")));
        assertTrue(Files.exists(root.resolve("etc/mimoping/agent.properties")), "configs kept without --purge");
        ok(Map.of("DESTDIR", root.toString()), install, "--uninstall", "--purge");
        assertFalse(Files.exists(root.resolve("etc/mimoping")));
    }

    @Test
    void theInstalledUnitsPassSystemdAnalyzeVerifyAndAreLockedDown() throws Exception {
        Path prefix = work.resolve("prefixed/opt/mimoping");
        Path units = work.resolve("prefixed/units");
        ok(Map.of(), dist.resolve("deploy/install.sh").toString(), "--prefix", prefix.toString(),
                "--sysconfdir", work.resolve("prefixed/etc").toString(), "--unitdir", units.toString(), "--no-user");
        List<String> verify = new ArrayList<>(List.of("systemd-analyze", "verify", "--man=no"));
        for (String name : List.of("mimoping-agent.service", "mimoping-hub.service")) {
            Path unit = units.resolve(name);
            assertTrue(Files.readString(unit).contains("ExecStart=" + prefix + "/bin/mimoping "), "paths of this install");
            verify.add(unit.toString());
        }
        Result verified = run(Map.of(), work, verify.toArray(String[]::new));
        assertEquals(0, verified.status(), verified.output());
        assertEquals("", verified.output().strip(), "no warning from systemd-analyze verify");

        for (String name : List.of("mimoping-agent.service", "mimoping-hub.service")) {
            Result security = run(Map.of(), work, "systemd-analyze", "security", "--offline=true", units.resolve(name).toString());
            assertEquals(0, security.status(), security.output());
            Matcher exposure = EXPOSURE.matcher(security.output());
            assertTrue(exposure.find(), security.output());
            double level = Double.parseDouble(exposure.group(2));
            System.out.println("systemd-analyze security " + name + ": exposure " + level);
            assertTrue(level <= MAX_EXPOSURE, name + " exposure " + level + " over " + MAX_EXPOSURE + ":\n" + security.output());
            for (String setting : List.of("NoNewPrivileges=", "ProtectSystem=", "PrivateTmp=", "SystemCallFilter=~@privileged",
                    "CapabilityBoundingSet=~CAP_SYS_ADMIN", "User=/DynamicUser=")) {
                assertTrue(security.output().lines().anyMatch(line -> line.contains("✓ " + setting)),
                        name + " has " + setting + ":\n" + security.output());
            }
            String unit = Files.readString(units.resolve(name));
            for (String line : List.of("Type=notify", "WatchdogSec=30s", "AmbientCapabilities=CAP_NET_RAW",
                    "CapabilityBoundingSet=CAP_NET_RAW", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                    "Restart=on-failure", "SuccessExitStatus=143", "User=mimoping")) {
                assertTrue(unit.contains("\n" + line + "\n"), name + " has " + line);
            }
        }
    }
}
