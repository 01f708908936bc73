using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chive.AdminApi.Operations;

/// <summary>
/// Operations in Redis. Each is a hash <c>{prefix}op:{id}</c> with the fields <c>version</c>, <c>status</c> and
/// <c>json</c>; a sorted set <c>{prefix}ops</c> indexes them by start time. Writes are compare-and-set on the version
/// (one Lua script each), so concurrent writers never lose an update; a finished operation gets the retention TTL, a
/// running one none. A listing is one script call — one round trip whatever the number of operations — and prunes
/// index entries whose operation has expired.
/// </summary>
public sealed class OperationStore(IConnectionMultiplexer redis, IOptions<OperationsOptions> options)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly LuaScript InsertScript = LuaScript.Prepare("""
        if redis.call('EXISTS', @key) == 1 then return 0 end
        redis.call('HSET', @key, 'version', @version, 'status', @status, 'json', @json)
        if tonumber(@ttl) > 0 then redis.call('PEXPIRE', @key, @ttl) end
        redis.call('ZADD', @index, @score, @id)
        return 1
        """);

    // Succeeds only when the stored version is the one the writer read. A finished operation's record gets the
    // retention TTL, and so does its scope key while it still names this operation (a later run replaces it).
    private static readonly LuaScript UpdateScript = LuaScript.Prepare("""
        local current = redis.call('HGET', @key, 'version')
        if not current or current ~= @expected then return 0 end
        redis.call('HSET', @key, 'version', @version, 'status', @status, 'json', @json)
        if tonumber(@ttl) > 0 then
          redis.call('PEXPIRE', @key, @ttl)
          if redis.call('GET', @scopeKey) == @id then redis.call('PEXPIRE', @scopeKey, @ttl) end
        else
          redis.call('PERSIST', @key)
        end
        return 1
        """);

    // Newest first from @max (a score, or '+inf'), skipping ties at the cursor; filter 'all', 'finished' or a status.
    private static readonly LuaScript ListScript = LuaScript.Prepare("""
        local out = {}
        local gone = {}
        local limit = tonumber(@limit)
        local cursorScore = tonumber(@max)
        local offset = 0
        while #out < limit do
          local page = redis.call('ZREVRANGEBYSCORE', @index, @max, '-inf', 'WITHSCORES', 'LIMIT', offset, 500)
          if #page == 0 then break end
          for i = 1, #page, 2 do
            local id = page[i]
            local score = tonumber(page[i + 1])
            if not (cursorScore and score == cursorScore and @cursorId ~= '' and id >= @cursorId) then
              local v = redis.call('HMGET', @prefix .. id, 'status', 'json')
              if not v[2] then
                table.insert(gone, id)
              elseif @filter == 'all' or (@filter == 'finished' and v[1] ~= 'running') or v[1] == @filter then
                table.insert(out, v[2])
                if #out >= limit then break end
              end
            end
          end
          offset = offset + 500
        end
        for _, id in ipairs(gone) do redis.call('ZREM', @index, id) end
        return out
        """);

    // Replaces the scope's holder only if it is still the one the caller saw (or there is none).
    private static readonly LuaScript ClaimScopeScript = LuaScript.Prepare("""
        local holder = redis.call('GET', @key)
        if (holder == false and @seen == '') or holder == @seen then
          redis.call('SET', @key, @id)
          return 1
        end
        return 0
        """);

    private IDatabase Db => redis.GetDatabase();

    private string Prefix => options.Value.KeyPrefix + "op:";

    private RedisKey Index => options.Value.KeyPrefix + "ops";

    /// <summary>Stores a new operation; false when one with that id exists.</summary>
    public async Task<bool> InsertAsync(BackfillOperation operation)
    {
        var result = await Db.ScriptEvaluateAsync(InsertScript, new
        {
            key = (RedisKey)(Prefix + operation.CorrelationId.ToString("D")),
            index = Index,
            version = operation.Version,
            status = operation.Status,
            json = JsonSerializer.Serialize(operation, Json),
            score = operation.StartedAt.ToUnixTimeMilliseconds(),
            ttl = TtlMilliseconds(operation),
            id = operation.CorrelationId.ToString("D"),
        });
        return (int)result == 1;
    }

    /// <summary>Writes <paramref name="operation"/> if the stored version is still <paramref name="expectedVersion"/>.</summary>
    public async Task<bool> TryUpdateAsync(BackfillOperation operation, int expectedVersion)
    {
        var result = await Db.ScriptEvaluateAsync(UpdateScript, new
        {
            key = (RedisKey)(Prefix + operation.CorrelationId.ToString("D")),
            expected = expectedVersion.ToString(CultureInfo.InvariantCulture),
            version = operation.Version,
            status = operation.Status,
            json = JsonSerializer.Serialize(operation, Json),
            ttl = TtlMilliseconds(operation),
            scopeKey = ScopeKey(operation.Type, operation.Scope),
            id = operation.CorrelationId.ToString("D"),
        });
        return (int)result == 1;
    }

    public async Task<BackfillOperation?> GetAsync(Guid id)
    {
        var json = await Db.HashGetAsync(Prefix + id.ToString("D"), "json");
        return json.IsNullOrEmpty ? null : JsonSerializer.Deserialize<BackfillOperation>(json.ToString(), Json);
    }

    public Task DeleteAsync(Guid id) => Db.KeyDeleteAsync(Prefix + id.ToString("D"));

    /// <summary>
    /// Operations newest first that match <paramref name="filter"/>. Pass the last item of a page as
    /// <paramref name="after"/> for the next page.
    /// </summary>
    public async Task<IReadOnlyList<BackfillOperation>> ListAsync(OperationFilter filter, int limit, BackfillOperation? after = null)
    {
        var result = await Db.ScriptEvaluateAsync(ListScript, new
        {
            index = Index,
            prefix = Prefix,
            max = after is null ? "+inf" : after.StartedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            cursorId = after?.CorrelationId.ToString("D") ?? "",
            filter = filter.Value,
            limit,
        });
        return ((RedisResult[])result!).Select(r => JsonSerializer.Deserialize<BackfillOperation>(r.ToString(), Json)!).ToList();
    }

    /// <summary>The operation that holds a scope (the last one started in it), if any.</summary>
    public async Task<Guid?> GetScopeHolderAsync(string type, string scope)
    {
        var holder = await Db.StringGetAsync(ScopeKey(type, scope));
        return Guid.TryParse(holder.ToString(), out var id) ? id : null;
    }

    /// <summary>Makes <paramref name="id"/> the holder of the scope if <paramref name="seen"/> still holds it.</summary>
    public async Task<bool> TryClaimScopeAsync(string type, string scope, Guid? seen, Guid id)
    {
        var result = await Db.ScriptEvaluateAsync(ClaimScopeScript, new
        {
            key = ScopeKey(type, scope),
            seen = seen?.ToString("D") ?? "",
            id = id.ToString("D"),
        });
        return (int)result == 1;
    }

    private RedisKey ScopeKey(string type, string scope) => $"{options.Value.KeyPrefix}scope:{type}:{scope}";

    private long TtlMilliseconds(BackfillOperation operation) =>
        operation.IsFinished ? (long)options.Value.Retention.TotalMilliseconds : 0;
}
