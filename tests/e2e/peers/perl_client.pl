#!/usr/bin/perl
# A Gearman::Client for tests/e2e/peers_test.ts; prints one JSON object.
# usage: perl perl_client.pl HOST PORT MODE FUNCTION [ARG...]
#   do DATA                 do_task → {result} (null when the task failed)
#   background DATA [UNIQ]  dispatch_background → {handle}
#   status HANDLE           get_status → {known, running, progress} (FUNCTION is "-")
use strict;
use warnings;
use Gearman::Client;
use JSON::PP;

my ($host, $port, $mode, $func, @args) = @ARGV;
my $client = Gearman::Client->new(job_servers => ["$host:$port"]);
my %out;

if ($mode eq "do") {
    my $failed = 0;
    my $res = $client->do_task($func, $args[0], {
        timeout => 10,
        on_fail => sub { $failed = 1 },
    });
    $out{result} = defined $res ? $$res : undef;
    $out{failed} = $failed ? JSON::PP::true : JSON::PP::false;
} elsif ($mode eq "background") {
    my %opts = defined $args[1] ? (uniq => $args[1]) : ();
    $out{handle} = $client->dispatch_background($func, $args[0], \%opts);
} elsif ($mode eq "status") {
    my $st = $client->get_status($args[0]);
    if ($st) {
        $out{known}   = $st->known ? JSON::PP::true : JSON::PP::false;
        $out{running} = $st->running ? JSON::PP::true : JSON::PP::false;
        $out{progress} = [map { 0 + ($_ // 0) } @{ $st->progress || [] }];
    } else {
        $out{known} = JSON::PP::false;
    }
} else {
    die "unknown mode $mode\n";
}
print JSON::PP->new->canonical->encode(\%out), "\n";
