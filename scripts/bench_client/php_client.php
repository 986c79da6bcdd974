<?php
// A PHP (libgearman) client for scripts/bench_client.ts.
// usage: php php_client.php HOST PORT fg|bg FUNCTION SIZE BATCH [COUNT]
//   fg  foreground: addTask x BATCH, runTasks, repeated until the window ends;
//       counts the jobs completed inside the window.
//   bg  background: COUNT jobs as addTaskBackground x BATCH + runTasks batches,
//       starting no batch after T1.
// Protocol on stdin/stdout, one line each:
//   -> "ready" once a warm-up job went through
//   <- "go T0 T1" (epoch ms: fg counts completions in [T0, T1); bg stops at T1)
//   -> {"jobs": N, "startMs": ..., "endMs": ...}
//   <- end of input, then it exits.
declare(strict_types=1);

[, $host, $port, $mode, $fn, $size, $batch] = $argv;
$size = (int)$size;
$batch = max(1, (int)$batch);
$count = (int)($argv[7] ?? '0');
$payload = str_repeat('x', $size);

$c = new GearmanClient();
$c->addServer($host, (int)$port);
$c->setTimeout(60000);

function nowMs(): float
{
    return microtime(true) * 1000;
}

function check(GearmanClient $c, bool $ok): void
{
    if (!$ok || $c->returnCode() !== GEARMAN_SUCCESS) {
        fwrite(STDERR, "php_client: rc={$c->returnCode()} {$c->error()}\n");
        exit(1);
    }
}

// Warm-up: the connection is up and (fg) a worker answers.
if ($mode === 'fg') {
    $c->doNormal($fn, $payload);
} else {
    for ($i = 0; $i < min($batch, 10); $i++) {
        $c->addTaskBackground($fn, $payload);
    }
    check($c, $c->runTasks());
}
check($c, true);
echo "ready\n";
fflush(STDOUT);

$go = explode(' ', trim((string)fgets(STDIN)));
$t0 = (float)($go[1] ?? 0);
$t1 = (float)($go[2] ?? 0);

$jobs = 0;
if ($mode === 'fg') {
    $c->setCompleteCallback(function (GearmanTask $t) use (&$jobs, $t0, $t1): void {
        $now = nowMs();
        if ($now >= $t0 && $now < $t1) {
            $jobs++;
        }
    });
    $start = $t0;
    while (nowMs() < $t1) {
        for ($i = 0; $i < $batch; $i++) {
            $c->addTask($fn, $payload);
        }
        check($c, $c->runTasks());
    }
    $end = $t1;
} else {
    $start = nowMs();
    while ($jobs < $count && nowMs() < $t1) {
        $n = min($batch, $count - $jobs);
        for ($i = 0; $i < $n; $i++) {
            $c->addTaskBackground($fn, $payload);
        }
        check($c, $c->runTasks());
        $jobs += $n;
    }
    $end = nowMs();
}
echo json_encode(['jobs' => $jobs, 'startMs' => $start, 'endMs' => $end]), "\n";
fflush(STDOUT);
stream_get_contents(STDIN);
