<?php
// A GearmanClient for tests/e2e/peers_test.ts; prints one JSON object.
// usage: php php_client.php HOST PORT MODE FUNCTION [ARG...]
//   normal|high|low DATA      doNormal/doHigh/doLow → {result, rc}
//   background DATA [UNIQUE]  doBackground → {handle, rc}
//   status HANDLE             jobStatus → {status: [known, running, num, den], rc} (FUNCTION is "-")
//   tasks DATA...             addTask each, runTasks → {results: {DATA: RESULT}, rc}
//   events DATA               one task with every callback → {events: [...], rc}
//   exception DATA            like events, with GEARMAN_CLIENT_EXCEPTION set
//   timeout MS DATA           setTimeout(MS), doNormal → {rc, elapsedMs}
declare(strict_types=1);

[, $host, $port, $mode, $fn] = $argv;
$args = array_slice($argv, 5);

// libgearman's GEARMAN_CLIENT_EXCEPTION (1 << 7); the extension does not export it.
const CLIENT_EXCEPTION = 128;

$c = new GearmanClient();
$c->addServer($host, (int)$port);
$c->setTimeout(10000);
$out = [];

function record(array &$events): callable
{
    return function (string $kind) use (&$events): callable {
        return function (GearmanTask $t) use (&$events, $kind): void {
            $e = [$kind];
            if ($kind === 'status') {
                $e[] = $t->taskNumerator();
                $e[] = $t->taskDenominator();
            } elseif ($kind !== 'fail' && $kind !== 'created') {
                $e[] = $t->data();
            }
            $events[] = $e;
        };
    };
}

switch ($mode) {
    case 'normal':
    case 'high':
    case 'low':
        $method = ['normal' => 'doNormal', 'high' => 'doHigh', 'low' => 'doLow'][$mode];
        $out['result'] = $c->$method($fn, $args[0] ?? '');
        break;
    case 'background':
        $out['handle'] = $c->doBackground($fn, $args[0] ?? '', $args[1] ?? null);
        break;
    case 'status':
        $out['status'] = $c->jobStatus($args[0] ?? '');
        break;
    case 'tasks':
        $results = [];
        $c->setCompleteCallback(function (GearmanTask $t) use (&$results): void {
            $results[$t->unique()] = $t->data();
        });
        foreach ($args as $i => $data) {
            $c->addTask($fn, $data, null, "task-$i-" . getmypid());
        }
        $ok = $c->runTasks();
        $byData = [];
        foreach ($args as $i => $data) {
            $byData[$data] = $results["task-$i-" . getmypid()] ?? null;
        }
        $out['results'] = $byData;
        $out['ran'] = $ok;
        break;
    case 'events':
    case 'exception':
        if ($mode === 'exception') {
            $c->addOptions(CLIENT_EXCEPTION);
        }
        $events = [];
        $rec = record($events);
        $c->setDataCallback($rec('data'));
        $c->setStatusCallback($rec('status'));
        $c->setWarningCallback($rec('warning'));
        $c->setCompleteCallback($rec('complete'));
        $c->setExceptionCallback($rec('exception'));
        $c->setFailCallback($rec('fail'));
        $c->addTask($fn, $args[0] ?? '');
        $out['ran'] = $c->runTasks();
        $out['events'] = $events;
        break;
    case 'timeout':
        $c->setTimeout((int)$args[0]);
        $t0 = microtime(true);
        $out['result'] = $c->doNormal($fn, $args[1] ?? '');
        $out['elapsedMs'] = (int)round((microtime(true) - $t0) * 1000);
        break;
    default:
        fwrite(STDERR, "unknown mode $mode\n");
        exit(2);
}
$out['rc'] = $c->returnCode();
echo json_encode($out), "\n";
