// devgraph's dashboard: the organization's activity by team space, its top
// event names and its DORA keys, read through /graphql with a bearer token
// and refreshed whenever the metricsChanged / deliveryChanged subscriptions
// on /graphql/ws say the figures moved.
//
// The token is dev mode's (the page's settings carry it only for loopback
// hosts) or one the user pasted, kept in sessionStorage (this tab only) and
// sent only to this origin. Every figure drawn is also written into the DOM
// (tables, lists, data-* attributes) for screen readers and for the browser
// test, which reads what was drawn from there.
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('devgraph-config').textContent);
  var STORE = 'devgraph.dashboard.token';
  // Distinct at a glance and legible on white; cycles past ten team spaces.
  var PALETTE = ['#3b5bdb', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8',
    '#0c8599', '#e67700', '#5c7cfa', '#a61e4d', '#495057'];
  var TOP_EVENTS = 10;
  var CHART_HEIGHT = 280;

  var ORG_QUERY = 'query DashboardOrganization { viewer { name role } organization { id name slug timeZone } }';
  var METRICS_QUERY = [
    'query DashboardMetrics($from: Date!, $to: Date!) {',
    '  organization {',
    '    teamSpaces(first: 50, orderBy: {field: NAME, direction: ASC}) { totalCount edges { node { id name } } }',
    '    activity: metrics(from: $from, to: $to, groupBy: [DAY, TEAM_SPACE]) { day teamSpaceId count }',
    '    events: metrics(from: $from, to: $to, groupBy: [EVENT_NAME]) { eventName count }',
    '  }',
    '}',
  ].join('\n');
  var DELIVERY_QUERY = [
    'query DashboardDelivery($from: Date!, $to: Date!) {',
    '  organization {',
    '    delivery(from: $from, to: $to, interval: ALL) {',
    '      from to',
    '      dora {',
    '        deployments deploymentsPerDay deploymentFrequencyLevel',
    '        leadTime { count p50 p90 } leadTimeLevel',
    '        failedDeployments changeFailureRate changeFailureRateLevel',
    '        timeToRestore { count p50 p90 } timeToRestoreLevel',
    '      }',
    '    }',
    '  }',
    '}',
  ].join('\n');
  var METRICS_CHANGED = 'subscription DashboardMetricsChanged($scope: ID!, $from: Date) { metricsChanged(scope: $scope, from: $from) { scope } }';
  var DELIVERY_CHANGED = 'subscription DashboardDeliveryChanged($scope: ID!, $from: Date!, $to: Date!) { deliveryChanged(scope: $scope, from: $from, to: $to, interval: ALL) { scope } }';

  var state = {
    token: null,
    pasted: false,
    org: null,
    days: 30,
    range: null,
    generation: 0,
    refreshing: false,
    refreshAgain: false,
    refreshTimer: null,
    refreshes: 0,
    plot: null,
    plotKey: '',
    activity: null,
    live: null,
  };

  var $ = function (id) { return document.getElementById(id); };
  var number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  var integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

  // ---- token ----------------------------------------------------------------

  function storedToken() {
    try { return sessionStorage.getItem(STORE); } catch (e) { return null; }
  }

  function storeToken(token) {
    try {
      if (token) sessionStorage.setItem(STORE, token); else sessionStorage.removeItem(STORE);
    } catch (e) { /* storage off: the token lives as long as the page */ }
  }

  function chooseToken() {
    var pasted = storedToken();
    state.pasted = !!pasted;
    state.token = pasted || config.devToken || null;
  }

  function showSignin(message) {
    stopLive();
    state.generation++;
    document.body.dataset.state = 'signin';
    $('content').hidden = true;
    $('signin').hidden = false;
    $('change-token').hidden = true;
    $('status').textContent = '';
    $('org-name').textContent = 'Dashboard';
    $('viewer').textContent = '';
    var error = $('signin-error');
    error.textContent = message || '';
    error.hidden = !message;
    $('token').focus();
  }

  $('token-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var token = $('token').value.trim().replace(/^Bearer\s+/i, '');
    if (!token) return;
    $('token').value = '';
    storeToken(token);
    start();
  });

  $('change-token').addEventListener('click', function () {
    storeToken(null);
    state.token = null;
    showSignin('');
  });

  $('range').addEventListener('change', function () {
    state.days = Number($('range').value) || 30;
    if (state.org) {
      startLive();
      refresh();
    }
  });

  // ---- GraphQL over HTTP -------------------------------------------------------

  function GraphQLError(message, code) {
    this.message = message;
    this.code = code;
  }

  function gql(query, variables) {
    return fetch(config.endpoint, {
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/graphql-response+json, application/json',
        Authorization: 'Bearer ' + state.token,
      },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(function (response) {
      return response.json().catch(function () {
        throw new GraphQLError('the server answered HTTP ' + response.status, 'HTTP');
      }).then(function (body) {
        if (body.errors && body.errors.length) {
          var first = body.errors[0];
          throw new GraphQLError(first.message, first.extensions && first.extensions.code);
        }
        if (!response.ok || !body.data) {
          throw new GraphQLError('the server answered HTTP ' + response.status, 'HTTP');
        }
        return body.data;
      });
    });
  }

  // ---- days ----------------------------------------------------------------------

  /** Today in the organization's time zone, the zone its days are counted in. */
  function today(timeZone) {
    var format = function (zone) {
      return new Intl.DateTimeFormat('en-CA', {
        timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
      }).format(new Date());
    };
    try { return format(timeZone); } catch (e) { return format('UTC'); }
  }

  function addDays(day, n) {
    return new Date(Date.parse(day + 'T00:00:00Z') + n * 86400000).toISOString().slice(0, 10);
  }

  function currentRange() {
    var to = today(state.org.timeZone);
    return { from: addDays(to, 1 - state.days), to: to };
  }

  function daysOf(range) {
    var days = [];
    for (var day = range.from; day <= range.to; day = addDays(day, 1)) days.push(day);
    return days;
  }

  var DAY = 86400;
  var shortDay = new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', day: 'numeric', month: 'short' });
  var longDay = new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' });

  /** `Nov 2`, or with `weekday` `Mon, Nov 2`: a day as named, in no time zone but its own. */
  function dayLabel(day, weekday) {
    return (weekday ? longDay : shortDay).format(new Date(day + 'T00:00:00Z'));
  }

  // ---- loading -------------------------------------------------------------------

  function start() {
    chooseToken();
    if (!state.token) {
      showSignin('');
      return;
    }
    $('signin').hidden = true;
    document.body.dataset.state = 'loading';
    $('status').textContent = 'Loading…';
    var generation = ++state.generation;
    gql(ORG_QUERY).then(function (data) {
      if (generation !== state.generation) return;
      state.org = data.organization;
      $('org-name').textContent = state.org.name;
      $('viewer').textContent = data.viewer ? data.viewer.name + ' · ' + data.viewer.role.toLowerCase() : '';
      $('change-token').hidden = false;
      startLive();
      return refresh();
    }, function (error) {
      if (generation !== state.generation) return;
      failed(error);
    });
  }

  function failed(error) {
    if (error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN') {
      if (state.pasted) storeToken(null);
      showSignin('That token was not accepted: ' + error.message);
      return;
    }
    document.body.dataset.state = 'error';
    $('status').textContent = 'Could not load the dashboard: ' + (error.message || error);
  }

  /** Re-reads every figure; a refresh asked for while one runs runs once after it. */
  function refresh() {
    if (state.refreshing) {
      state.refreshAgain = true;
      return Promise.resolve();
    }
    state.refreshing = true;
    var generation = state.generation;
    var range = currentRange();
    var metrics = gql(METRICS_QUERY, range);
    // Delivery apart, so that a caller who may not read it still sees activity.
    var delivery = gql(DELIVERY_QUERY, range).then(
      function (data) { return { periods: data.organization.delivery }; },
      function (error) { return { error: error }; });
    return Promise.all([metrics, delivery]).then(function (results) {
      if (generation !== state.generation) return;
      state.range = range;
      render(results[0].organization, results[1], range);
    }, function (error) {
      if (generation === state.generation) failed(error);
    }).then(function () {
      state.refreshing = false;
      if (state.refreshAgain) {
        state.refreshAgain = false;
        return refresh();
      }
    });
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refresh, 200);
  }

  function render(org, delivery, range) {
    $('status').textContent = '';
    $('content').hidden = false;
    // The last day is today, so far: say so, or its low count looks like a fall.
    var period = dayLabel(range.from) + ' – today';
    renderActivity(org, range, period);
    renderEvents(org.events, period);
    renderDora(delivery, period);
    state.refreshes++;
    document.body.dataset.refreshes = String(state.refreshes);
    document.body.dataset.state = 'ready';
  }

  // ---- activity by team space ---------------------------------------------------

  function renderActivity(org, range, period) {
    var spaces = org.teamSpaces.edges.map(function (edge) { return edge.node; });
    var days = daysOf(range);
    var dayIndex = {};
    days.forEach(function (day, i) { dayIndex[day] = i; });
    var series = {};
    spaces.forEach(function (space) {
      series[space.id] = days.map(function () { return 0; });
    });
    org.activity.forEach(function (row) {
      var counts = series[row.teamSpaceId];
      var i = dayIndex[row.day];
      if (counts && i !== undefined) counts[i] += row.count;
    });
    state.activity = { spaces: spaces, days: days, series: series };

    var section = $('activity');
    section.dataset.from = range.from;
    section.dataset.to = range.to;
    section.dataset.series = String(spaces.length);
    section.dataset.teamSpaces = String(org.teamSpaces.totalCount);
    var shown = spaces.length < org.teamSpaces.totalCount
      ? ' · the first ' + spaces.length + ' of ' + org.teamSpaces.totalCount + ' team spaces'
      : '';
    $('activity-sub').textContent = 'Events per day, ' + period + shown;

    drawActivity(spaces, days, series);
    fillActivityTable(null);
  }

  function drawActivity(spaces, days, series) {
    var box = $('activity-chart');
    box.setAttribute('aria-label', 'Line chart of events per day for ' + spaces.length + ' team spaces');
    if (typeof uPlot === 'undefined') {
      box.textContent = 'The chart library did not load; the figures are in the table below.';
      return;
    }
    var xs = days.map(function (day) { return Date.parse(day + 'T00:00:00Z') / 1000; });
    var data = [xs].concat(spaces.map(function (space) { return series[space.id]; }));
    var key = spaces.map(function (space) { return space.id + '=' + space.name; }).join('|');
    if (state.plot && state.plotKey === key) {
      state.plot.setData(data);
    } else {
      createPlot(box, key, spaces, data);
    }
    // What uPlot holds now, for the test and for anyone inspecting the page.
    box.dataset.series = String(state.plot.series.length - 1);
    box.dataset.points = String(state.plot.data[0].length);
  }

  function createPlot(box, key, spaces, data) {
    if (state.plot) state.plot.destroy();
    box.textContent = '';
    state.plotKey = key;
    state.plot = new uPlot({
      width: Math.max(320, box.clientWidth),
      height: CHART_HEIGHT,
      // Days are calendar days of the organization: draw them as named,
      // whatever the browser's own time zone.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      scales: {
        x: { time: true },
        y: { range: function (u, min, max) { return [0, max > 0 ? Math.ceil(max * 1.12) : 1]; } },
      },
      axes: [
        { stroke: '#5d6575', grid: { stroke: '#eceef2', width: 1 }, ticks: { stroke: '#e3e6eb', width: 1 },
          // Whole days only: the figures are daily.
          incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY],
          values: function (u, ticks) { return ticks.map(function (t) { return shortDay.format(new Date(t * 1000)); }); } },
        { stroke: '#5d6575', grid: { stroke: '#eceef2', width: 1 }, ticks: { show: false }, size: 48,
          values: function (u, ticks) { return ticks.map(function (t) { return integer.format(t); }); } },
      ],
      series: [{}].concat(spaces.map(function (space, i) {
        return { label: space.name, stroke: color(i), width: 2, points: { show: false } };
      })),
      hooks: {
        setCursor: [function (u) { fillActivityTable(u.cursor.idx); }],
      },
    }, data, box);
  }

  function color(i) { return PALETTE[i % PALETTE.length]; }

  /** The table under the chart; `hover` is the day index under the cursor, if any. */
  function fillActivityTable(hover) {
    var activity = state.activity;
    if (!activity) return;
    var hovering = hover !== null && hover !== undefined;
    $('hover-day').textContent = hovering ? dayLabel(activity.days[hover], true) : 'Peak day';
    var body = $('activity-table').tBodies[0];
    var rows = activity.spaces.map(function (space, i) {
      var counts = activity.series[space.id];
      var total = counts.reduce(function (a, b) { return a + b; }, 0);
      var tr = document.createElement('tr');
      tr.dataset.teamSpaceId = space.id;
      tr.dataset.teamSpace = space.name;
      tr.dataset.total = String(total);
      var name = document.createElement('th');
      name.scope = 'row';
      var swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.backgroundColor = color(i);
      name.append(swatch, space.name);
      tr.append(name,
        cell(integer.format(total)),
        cell(number.format(total / activity.days.length)),
        cell(integer.format(hovering ? counts[hover] : Math.max.apply(null, counts.concat(0)))));
      return tr;
    });
    body.replaceChildren.apply(body, rows);
  }

  function cell(text) {
    var td = document.createElement('td');
    td.className = 'num';
    td.textContent = text;
    return td;
  }

  // ---- top event names -----------------------------------------------------------

  function renderEvents(rows, period) {
    var top = rows.slice().sort(function (a, b) {
      return b.count - a.count || (a.eventName < b.eventName ? -1 : a.eventName > b.eventName ? 1 : 0);
    }).slice(0, TOP_EVENTS);
    var max = top.length ? top[0].count : 0;
    $('events-sub').textContent = (rows.length > TOP_EVENTS ? 'Top ' + TOP_EVENTS + ' of ' + rows.length : 'All ' + rows.length) +
      ' names, ' + period;
    var items = top.map(function (row, i) {
      var li = document.createElement('li');
      li.dataset.eventName = row.eventName;
      li.dataset.count = String(row.count);
      var name = document.createElement('span');
      name.className = 'name';
      name.title = row.eventName;
      var rank = document.createElement('span');
      rank.className = 'rank';
      rank.textContent = (i + 1) + '.';
      name.append(rank, row.eventName);
      var track = document.createElement('span');
      track.className = 'track';
      track.setAttribute('aria-hidden', 'true');
      var fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = (max > 0 ? (100 * row.count / max) : 0).toFixed(2) + '%';
      track.append(fill);
      var count = document.createElement('span');
      count.className = 'count';
      count.textContent = integer.format(row.count);
      li.append(name, track, count);
      return li;
    });
    var list = $('events-list');
    list.replaceChildren.apply(list, items);
    $('events-empty').hidden = items.length > 0;
  }

  // ---- DORA keys -----------------------------------------------------------------

  function renderDora(delivery, period) {
    var list = $('dora-keys');
    var error = $('dora-error');
    if (delivery.error) {
      list.replaceChildren();
      error.hidden = false;
      error.textContent = 'No delivery figures: ' + delivery.error.message;
      return;
    }
    error.hidden = true;
    var dora = delivery.periods.length ? delivery.periods[0].dora : null;
    $('dora-sub').textContent = 'Production, ' + period;
    if (!dora) {
      list.replaceChildren();
      return;
    }
    list.replaceChildren(
      key('deploymentFrequency', 'Deployment frequency', dora.deploymentsPerDay,
        frequency(dora.deploymentsPerDay), dora.deploymentFrequencyLevel,
        number.format(dora.deployments) + ' deployments'),
      key('leadTime', 'Lead time for changes', dora.leadTime.p50,
        duration(dora.leadTime.p50), dora.leadTimeLevel,
        dora.leadTime.p50 === null ? 'no deployed changes'
          : 'median of ' + number.format(dora.leadTime.count) + ' changes · p90 ' + duration(dora.leadTime.p90)),
      key('changeFailureRate', 'Change failure rate', dora.changeFailureRate,
        dora.changeFailureRate === null ? '—' : number.format(100 * dora.changeFailureRate) + '%',
        dora.changeFailureRateLevel,
        number.format(dora.failedDeployments) + ' of ' + number.format(dora.deployments) + ' failed'),
      key('timeToRestore', 'Time to restore service', dora.timeToRestore.p50,
        duration(dora.timeToRestore.p50), dora.timeToRestoreLevel,
        dora.timeToRestore.p50 === null ? 'no resolved incidents'
          : 'median of ' + number.format(dora.timeToRestore.count) + ' incidents · p90 ' + duration(dora.timeToRestore.p90)));
  }

  function key(name, label, value, text, level, detail) {
    var box = document.createElement('div');
    box.className = 'key';
    box.dataset.key = name;
    box.dataset.value = value === null || value === undefined ? '' : String(value);
    box.dataset.level = level || '';
    var dt = document.createElement('dt');
    dt.textContent = label;
    var dd = document.createElement('dd');
    var figure = document.createElement('span');
    figure.className = 'value';
    figure.textContent = text;
    dd.append(figure);
    if (level) {
      var badge = document.createElement('span');
      badge.className = 'level';
      badge.dataset.level = level;
      badge.textContent = level.toLowerCase();
      dd.append(badge);
    }
    var small = document.createElement('div');
    small.className = 'detail';
    small.textContent = detail;
    dd.append(small);
    box.append(dt, dd);
    return box;
  }

  function frequency(perDay) {
    if (!(perDay > 0)) return 'none';
    if (perDay >= 1) return number.format(perDay) + ' / day';
    if (perDay * 7 >= 1) return number.format(perDay * 7) + ' / week';
    return number.format(perDay * 30) + ' / month';
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    if (seconds < 3600) return number.format(seconds / 60) + ' min';
    if (seconds < 2 * 86400) return number.format(seconds / 3600) + ' h';
    return number.format(seconds / 86400) + ' days';
  }

  // ---- live updates --------------------------------------------------------------

  function setLive(status, why) {
    var live = $('live');
    live.dataset.state = status;
    live.textContent = 'live: ' + status;
    live.title = why || 'Live updates through ' + config.subscriptions;
  }

  function stopLive() {
    if (state.live) {
      state.live.dispose();
      state.live = null;
    }
    setLive('off');
  }

  /** Subscribes to the organization's changes; any message means re-read. */
  function startLive() {
    stopLive();
    if (typeof graphqlWs === 'undefined' || typeof WebSocket === 'undefined') {
      setLive('off', 'This browser cannot open the live connection.');
      return;
    }
    var url = new URL(config.subscriptions, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    var connections = 0;
    var client = graphqlWs.createClient({
      url: url.href,
      connectionParams: { Authorization: 'Bearer ' + state.token },
      retryAttempts: Infinity,
      // At most every 30 seconds (plus jitter, so that many open pages do
      // not all come back at once after a restart).
      retryWait: function (retries) {
        var wait = Math.min(30000, 1000 * Math.pow(2, retries)) + Math.random() * 1000;
        return new Promise(function (resolve) { setTimeout(resolve, wait); });
      },
      on: {
        connecting: function () { setLive('connecting'); },
        connected: function () {
          setLive('on');
          // Whatever changed while the socket was down came with no message.
          if (connections++ > 0) scheduleRefresh();
        },
        closed: function () { setLive('off', 'The live connection is closed; retrying.'); },
      },
    });
    state.live = client;
    var range = currentRange();
    var sink = {
      next: function (result) {
        if (result.errors && result.errors.length) return;
        scheduleRefresh();
      },
      error: function () {
        if (state.live === client) setLive('off', 'The server refused the live subscription.');
      },
      complete: function () {},
    };
    client.subscribe({ query: METRICS_CHANGED, variables: { scope: state.org.id, from: range.from } }, sink);
    client.subscribe({ query: DELIVERY_CHANGED, variables: { scope: state.org.id, from: range.from, to: range.to } }, sink);
  }

  // ---- layout --------------------------------------------------------------------

  if (typeof ResizeObserver !== 'undefined') {
    new ResizeObserver(function () {
      var box = $('activity-chart');
      if (state.plot && box.clientWidth > 0) {
        state.plot.setSize({ width: box.clientWidth, height: CHART_HEIGHT });
      }
    }).observe($('activity-chart'));
  }

  start();
})();
