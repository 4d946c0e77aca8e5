# hotpatch.windows probe: reads the raw hotpatch facts of this Windows host and prints them as ONE
# compressed JSON document (the "Raw facts" contract of the design). It changes nothing and decides
# nothing: every decision is made on the controller. A piece that is not there is null; a piece that is
# there but could not be read (a timeout, an error) is null too, and read_errors says so, per fact.
# Runs on Windows PowerShell 5.1 and PowerShell 7 (no ?? or ternary operators). Bounded in time: every
# network request, CIM query and child process has a timeout.
# The action plugins send this file on stdin; keep it ASCII-only.

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$CurrentVersionKey = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
$SessionManagerKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
$ImdsUri = 'http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01'
$ImdsAttempts = 3
$ImdsTimeoutMs = 2000  # each request's Timeout and ReadWriteTimeout below
$ImdsBudgetMs = 7000
$AzcmagentTimeoutMs = 10000
$WindowsUpdatePolicyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate'

# fact -> why it could not be read ('timeout', 'wmi timeout', 'http 503 after 3 attempts', ...)
$readErrors = [ordered]@{}

function Add-ReadError {
    param([string]$Fact, [string]$Reason)
    if (-not $readErrors.Contains($Fact)) {
        $readErrors[$Fact] = $Reason
    }
}

function Get-ErrorText {
    # A short, one-line text of an error record or exception (its innermost exception's message).
    param($Failure)
    $exception = $Failure
    if ($null -ne $Failure -and $null -ne $Failure.PSObject.Properties['Exception']) {
        $exception = $Failure.Exception
    }
    while ($null -ne $exception -and $null -ne $exception.InnerException) {
        $exception = $exception.InnerException
    }
    $text = ''
    if ($null -ne $exception) {
        $text = [string]$exception.Message
    }
    $text = ($text -replace '\s+', ' ').Trim()
    if ($text.Length -gt 120) {
        $text = $text.Substring(0, 120)
    }
    return $text
}

function Get-CimReadError {
    # 'absent' when the class or namespace does not exist, else 'wmi timeout' or 'wmi error: <text>'.
    param($Failure)
    $code = ''
    $exception = $Failure.Exception
    while ($null -ne $exception) {
        $property = $exception.PSObject.Properties['NativeErrorCode']
        if ($null -ne $property -and $null -ne $property.Value) {
            $code = [string]$property.Value
        }
        $exception = $exception.InnerException
    }
    if ($code -eq 'InvalidNamespace' -or $code -eq 'InvalidClass' -or $code -eq 'NotFound') {
        return 'absent'
    }
    $text = Get-ErrorText $Failure
    if ($text -match 'time') {
        return 'wmi timeout'
    }
    return "wmi error: $text"
}

function Get-RegistryValue {
    # The value, or $null when the key or value is missing or cannot be read.
    param([string]$Path, [string]$Name)
    try {
        $item = Get-ItemProperty -LiteralPath $Path -Name $Name -ErrorAction Stop
        return $item.$Name
    }
    catch {
        return $null
    }
}

function Read-RegistryValue {
    # Like Get-RegistryValue, but a key or value that exists and cannot be read is recorded as a read error
    # of $Fact (a missing key or value is simply $null).
    param([string]$Path, [string]$Name, [string]$Fact)
    try {
        $item = Get-ItemProperty -LiteralPath $Path -Name $Name -ErrorAction Stop
        return $item.$Name
    }
    catch [System.Management.Automation.ItemNotFoundException] {
        return $null
    }
    catch [System.Management.Automation.PSArgumentException] {
        return $null
    }
    catch {
        Add-ReadError $Fact ('registry: ' + (Get-ErrorText $_))
        return $null
    }
}

function Get-ServiceState {
    # @{installed; running} of a service; $null (and a read error of $Fact) when it cannot be queried.
    param([string]$Name, [string]$Fact)
    try {
        $service = Get-Service -Name $Name -ErrorAction Stop
        return @{ installed = $true; running = ($service.Status -eq 'Running') }
    }
    catch [Microsoft.PowerShell.Commands.ServiceCommandException] {
        return @{ installed = $false; running = $false }
    }
    catch {
        Add-ReadError $Fact ('service: ' + (Get-ErrorText $_))
        return $null
    }
}

function Test-RegistryKey {
    # $true when the key exists, $false when it does not, $null when it cannot be read.
    param([string]$Path)
    try {
        $null = Get-Item -LiteralPath $Path -ErrorAction Stop
        return $true
    }
    catch [System.Management.Automation.ItemNotFoundException] {
        return $false
    }
    catch {
        return $null
    }
}

function ConvertTo-NullableInt {
    param($Value)
    if ($null -eq $Value -or "$Value" -eq '') {
        return $null
    }
    try {
        return [int]$Value
    }
    catch {
        return $null
    }
}

function Get-Field {
    # A property of a JSON object as a string ('' when absent or null); safe under Set-StrictMode.
    param($Object, [string]$Name)
    if ($null -eq $Object) {
        return ''
    }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) {
        return ''
    }
    return [string]$property.Value
}

function ConvertTo-IsoUtc {
    param([datetime]$When)
    return $When.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [System.Globalization.CultureInfo]::InvariantCulture)
}

function Get-TimeField {
    # A time property of a JSON object as ISO 8601 UTC when it parses (PowerShell 7 makes it a DateTime
    # already), else the text as it is ('' when absent).
    param($Object, [string]$Name)
    if ($null -eq $Object) {
        return ''
    }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) {
        return ''
    }
    if ($property.Value -is [datetime]) {
        return ConvertTo-IsoUtc $property.Value
    }
    $parsed = [datetime]::MinValue
    $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
    if ([datetime]::TryParse([string]$property.Value, [System.Globalization.CultureInfo]::InvariantCulture, $styles, [ref]$parsed)) {
        return ConvertTo-IsoUtc $parsed
    }
    return [string]$property.Value
}

# Operating system: product, edition, installation type, build and update build revision.
$architecture = Get-RegistryValue "$SessionManagerKey\Environment" 'PROCESSOR_ARCHITECTURE'
if (-not $architecture) {
    $architecture = $env:PROCESSOR_ARCHITEW6432
}
if (-not $architecture) {
    $architecture = $env:PROCESSOR_ARCHITECTURE
}
if ($architecture) {
    $architecture = ([string]$architecture).ToUpperInvariant()
}
else {
    $architecture = $null
}
$os = [ordered]@{
    product_name = Read-RegistryValue $CurrentVersionKey 'ProductName' 'os'
    edition_id = Read-RegistryValue $CurrentVersionKey 'EditionID' 'os'
    installation_type = Read-RegistryValue $CurrentVersionKey 'InstallationType' 'os'
    build = ConvertTo-NullableInt (Read-RegistryValue $CurrentVersionKey 'CurrentBuild' 'os')
    ubr = ConvertTo-NullableInt (Read-RegistryValue $CurrentVersionKey 'UBR' 'os')
    architecture = $architecture
}

# Virtualization-based security: 0 off, 1 enabled but not running, 2 running. Absent before 2016.
$vbsStatus = $null
try {
    $deviceGuard = Get-CimInstance -Namespace 'root/Microsoft/Windows/DeviceGuard' -ClassName 'Win32_DeviceGuard' -OperationTimeoutSec 15 -ErrorAction Stop
    $first = @($deviceGuard)[0]
    if ($null -ne $first) {
        $vbsStatus = ConvertTo-NullableInt $first.VirtualizationBasedSecurityStatus
    }
}
catch {
    $vbsStatus = $null
    $cimError = Get-CimReadError $_
    if ($cimError -ne 'absent') {
        Add-ReadError 'vbs' $cimError
    }
}
# What the DeviceGuard registry asks for at the next boot (Microsoft's "Enable Hotpatch" pages).
$deviceGuardKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\DeviceGuard'
$vbsConfig = [ordered]@{
    enable_virtualization_based_security = ConvertTo-NullableInt (Read-RegistryValue $deviceGuardKey 'EnableVirtualizationBasedSecurity' 'vbs_config')
    require_platform_security_features = ConvertTo-NullableInt (Read-RegistryValue $deviceGuardKey 'RequirePlatformSecurityFeatures' 'vbs_config')
}

# Arm64 only: HotPatchRestrictions = 1 turns CHPE off so that hotpatches can apply.
$memoryKey = "$SessionManagerKey\Memory Management"
$hotpatchRestrictions = ConvertTo-NullableInt (Read-RegistryValue $memoryKey 'HotPatchRestrictions' 'hotpatch_restrictions')

# Local hotpatch enrolment signals ("Enable Hotpatch for Azure Edition virtual machines built from ISO"):
# HotPatchTableSize 0x1000, the Hotpatch Enrollment Package key; KB5003508 is among the hotfixes below.
$packageArchitecture = 'amd64'
if ($architecture -eq 'ARM64') {
    $packageArchitecture = 'arm64'
}
$packageKey = "$CurrentVersionKey\Update\TargetingInfo\DynamicInstalled\Hotpatch.$packageArchitecture"
$enrolment = [ordered]@{
    hotpatch_table_size = ConvertTo-NullableInt (Read-RegistryValue $memoryKey 'HotPatchTableSize' 'enrolment')
    package_name = Read-RegistryValue $packageKey 'Name' 'enrolment'
    package_version = Read-RegistryValue $packageKey 'Version' 'enrolment'
}

# Secure Boot: the cmdlet needs admin rights and UEFI; the registry state is readable without them.
$secureBoot = $null
try {
    $secureBoot = [bool](Confirm-SecureBootUEFI -ErrorAction Stop)
}
catch {
    $state = ConvertTo-NullableInt (Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Control\SecureBoot\State' 'UEFISecureBootEnabled')
    if ($null -ne $state) {
        $secureBoot = ($state -eq 1)
    }
}

# The Azure VM agent (provisionVMAgent, which hotpatch on Azure needs) runs as WindowsAzureGuestAgent.
$azureVmAgent = Get-ServiceState 'WindowsAzureGuestAgent' 'azure_vm_agent'
$looksAzure = ($null -ne $azureVmAgent -and $azureVmAgent.installed) -or ("$($os.edition_id)" -like 'ServerTurbine*')

# Azure Instance Metadata Service: short timeouts and no proxy, so that it never hangs off Azure. Retried
# (at most $ImdsAttempts requests within $ImdsBudgetMs) on HTTP 429, 410 and 5xx, and on a timeout where
# the host looks like an Azure VM (Azure VM agent, or Datacenter: Azure Edition).
$azure = $null
$imdsError = $null
$imdsTries = 0
$imdsClock = [System.Diagnostics.Stopwatch]::StartNew()
while ($imdsTries -lt $ImdsAttempts) {
    $imdsTries += 1
    $retry = $false
    try {
        $request = [System.Net.WebRequest]::Create($ImdsUri)
        $request.Method = 'GET'
        $request.Headers.Add('Metadata', 'true')
        $request.Proxy = New-Object -TypeName System.Net.WebProxy
        $request.Timeout = 2000
        $request.ReadWriteTimeout = 2000
        $response = $request.GetResponse()
        try {
            $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $response.GetResponseStream()
            $body = $reader.ReadToEnd()
        }
        finally {
            $response.Close()
        }
        $imdsError = $null
        $compute = ConvertFrom-Json -InputObject $body
        if ((Get-Field $compute 'vmId') -ne '') {
            $storageProfile = $compute.PSObject.Properties['storageProfile']
            $imageReference = $null
            if ($null -ne $storageProfile -and $null -ne $storageProfile.Value) {
                $reference = $storageProfile.Value.PSObject.Properties['imageReference']
                if ($null -ne $reference) {
                    $imageReference = $reference.Value
                }
            }
            $publisher = Get-Field $imageReference 'publisher'
            if ($publisher -eq '') {
                $publisher = Get-Field $compute 'publisher'
            }
            $offer = Get-Field $imageReference 'offer'
            if ($offer -eq '') {
                $offer = Get-Field $compute 'offer'
            }
            $sku = Get-Field $imageReference 'sku'
            if ($sku -eq '') {
                $sku = Get-Field $compute 'sku'
            }
            $azure = [ordered]@{
                publisher = $publisher
                offer = $offer
                sku = $sku
                image_id = Get-Field $imageReference 'id'
                location = Get-Field $compute 'location'
                vm_scale_set_name = Get-Field $compute 'vmScaleSetName'
            }
        }
    }
    catch {
        $azure = $null
        $webError = $_.Exception
        while ($null -ne $webError -and -not ($webError -is [System.Net.WebException]) -and $null -ne $webError.InnerException) {
            $webError = $webError.InnerException
        }
        if ($webError -is [System.Net.WebException]) {
            $httpCode = $null
            if ($null -ne $webError.Response) {
                try {
                    $httpCode = [int]$webError.Response.StatusCode
                }
                catch {
                    $httpCode = $null
                }
            }
            if ($null -ne $httpCode) {
                $imdsError = "http $httpCode"
                $retry = ($httpCode -eq 429 -or $httpCode -eq 410 -or $httpCode -ge 500)
            }
            elseif ($webError.Status -eq [System.Net.WebExceptionStatus]::Timeout) {
                $imdsError = 'timeout'
                $retry = $looksAzure
            }
            else {
                $imdsError = "unreachable ($($webError.Status))"
            }
        }
        else {
            $imdsError = 'bad answer: ' + (Get-ErrorText $_)
        }
    }
    $pause = 300 * $imdsTries
    if (-not $retry -or $imdsTries -ge $ImdsAttempts -or ($imdsClock.ElapsedMilliseconds + $pause + $ImdsTimeoutMs) -gt $ImdsBudgetMs) {
        break
    }
    [System.Threading.Thread]::Sleep($pause)
}
if ($null -ne $imdsError) {
    if ($imdsTries -gt 1) {
        $imdsError = "$imdsError after $imdsTries attempts"
    }
    Add-ReadError 'imds' $imdsError
}

# Azure Arc: the Connected Machine agent runs as the himds service.
$arcInstalled = $null
$arcRunning = $null
$himds = Get-ServiceState 'himds' 'arc'
if ($null -ne $himds) {
    $arcInstalled = $himds.installed
    $arcRunning = $himds.running
}

# On Arc: 'azcmagent show -j' (no admin rights needed, read-only), in a child process that is killed after
# $AzcmagentTimeoutMs: the agent's status and last heartbeat, and the Azure resource it is connected as.
$azcmagent = $null
if ($arcInstalled) {
    $agentExe = $null
    foreach ($programFiles in @($env:ProgramW6432, $env:ProgramFiles)) {
        if (-not $agentExe -and $programFiles) {
            $candidate = Join-Path $programFiles 'AzureConnectedMachineAgent\azcmagent.exe'
            if (Test-Path -LiteralPath $candidate) {
                $agentExe = $candidate
            }
        }
    }
    if ($agentExe) {
        try {
            $startInfo = New-Object -TypeName System.Diagnostics.ProcessStartInfo
            $startInfo.FileName = $agentExe
            $startInfo.Arguments = 'show -j'
            $startInfo.UseShellExecute = $false
            $startInfo.RedirectStandardOutput = $true
            $startInfo.RedirectStandardError = $true
            $startInfo.CreateNoWindow = $true
            $agentProcess = [System.Diagnostics.Process]::Start($startInfo)
            $agentOutput = $agentProcess.StandardOutput.ReadToEndAsync()
            $null = $agentProcess.StandardError.ReadToEndAsync()
            if ($agentProcess.WaitForExit($AzcmagentTimeoutMs)) {
                $agent = ConvertFrom-Json -InputObject $agentOutput.Result
                $azcmagent = [ordered]@{
                    status = Get-Field $agent 'status'
                    last_heartbeat = Get-TimeField $agent 'lastHeartbeat'
                    resource_name = Get-Field $agent 'resourceName'
                    resource_group = Get-Field $agent 'resourceGroup'
                    subscription_id = Get-Field $agent 'subscriptionId'
                    tenant_id = Get-Field $agent 'tenantId'
                    location = Get-Field $agent 'location'
                    agent_version = Get-Field $agent 'agentVersion'
                }
            }
            else {
                try {
                    $agentProcess.Kill()
                }
                catch {
                    $null = $_
                }
                Add-ReadError 'azcmagent' 'timeout'
            }
        }
        catch {
            Add-ReadError 'azcmagent' (Get-ErrorText $_)
        }
    }
    else {
        Add-ReadError 'azcmagent' 'azcmagent.exe not found'
    }
}

# Installed updates (what Get-HotFix lists), as unique upper-case KB ids.
$hotfixes = $null
try {
    $ids = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($fix in @(Get-CimInstance -ClassName 'Win32_QuickFixEngineering' -Property 'HotFixID' -OperationTimeoutSec 30 -ErrorAction Stop)) {
        $id = ([string]$fix.HotFixID).Trim().ToUpperInvariant()
        if ($id -match '^KB\d+$' -and -not $ids.Contains($id)) {
            $ids.Add($id)
        }
    }
    $ids.Sort()
    $hotfixes = $ids.ToArray()
}
catch {
    $hotfixes = $null
    Add-ReadError 'hotfixes' (Get-CimReadError $_)
}

# Who else installs updates: the Windows Update policy (WSUS server and Automatic Updates settings).
$windowsUpdatePolicy = [ordered]@{
    wu_server = Read-RegistryValue $WindowsUpdatePolicyKey 'WUServer' 'windows_update_policy'
    use_wu_server = ConvertTo-NullableInt (Read-RegistryValue "$WindowsUpdatePolicyKey\AU" 'UseWUServer' 'windows_update_policy')
    no_auto_update = ConvertTo-NullableInt (Read-RegistryValue "$WindowsUpdatePolicyKey\AU" 'NoAutoUpdate' 'windows_update_policy')
    au_options = ConvertTo-NullableInt (Read-RegistryValue "$WindowsUpdatePolicyKey\AU" 'AUOptions' 'windows_update_policy')
    scheduled_install_day = ConvertTo-NullableInt (Read-RegistryValue "$WindowsUpdatePolicyKey\AU" 'ScheduledInstallDay' 'windows_update_policy')
    scheduled_install_time = ConvertTo-NullableInt (Read-RegistryValue "$WindowsUpdatePolicyKey\AU" 'ScheduledInstallTime' 'windows_update_policy')
}

# The four places that say a restart is pending.
$fileRename = $null
try {
    $renames = Get-ItemProperty -LiteralPath $SessionManagerKey -ErrorAction Stop
    $pending = $renames.PSObject.Properties['PendingFileRenameOperations']
    $fileRename = ($null -ne $pending -and @($pending.Value | Where-Object { "$_" -ne '' }).Count -gt 0)
}
catch {
    $fileRename = $null
}
$computerRename = $null
$activeName = Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName' 'ComputerName'
$pendingName = Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName' 'ComputerName'
if ($null -ne $activeName -and $null -ne $pendingName) {
    $computerRename = ($activeName -ne $pendingName)
}
$rebootPending = [ordered]@{
    cbs = Test-RegistryKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
    windows_update = Test-RegistryKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
    file_rename = $fileRename
    computer_rename = $computerRename
}

# Clock and time zone.
$lastBoot = $null
try {
    $osInfo = Get-CimInstance -ClassName 'Win32_OperatingSystem' -Property 'LastBootUpTime' -OperationTimeoutSec 15 -ErrorAction Stop
    $bootTime = @($osInfo)[0].LastBootUpTime
    if ($null -ne $bootTime) {
        $lastBoot = ConvertTo-IsoUtc $bootTime
    }
}
catch {
    $lastBoot = $null
    Add-ReadError 'last_boot' (Get-CimReadError $_)
}
$timezone = $null
try {
    $timezone = [System.TimeZoneInfo]::Local.Id
}
catch {
    $timezone = $null
}

$azureVmAgentFact = $null
if ($null -ne $azureVmAgent) {
    $azureVmAgentFact = [ordered]@{ installed = $azureVmAgent.installed; running = $azureVmAgent.running }
}

$facts = [ordered]@{
    os = $os
    vbs_status = $vbsStatus
    hotpatch_restrictions = $hotpatchRestrictions
    secure_boot = $secureBoot
    azure = $azure
    arc = [ordered]@{ agent_installed = $arcInstalled; agent_running = $arcRunning }
    hotfixes = $hotfixes
    reboot_pending = $rebootPending
    last_boot = $lastBoot
    now = ConvertTo-IsoUtc ([datetime]::UtcNow)
    timezone = $timezone
    vbs_config = $vbsConfig
    enrolment = $enrolment
    azure_vm_agent = $azureVmAgentFact
    azcmagent = $azcmagent
    windows_update_policy = $windowsUpdatePolicy
    read_errors = $readErrors
}

# ASCII-only output (\uXXXX escapes) so that no console code page can garble a product or zone name.
$json = ConvertTo-Json -InputObject $facts -Compress -Depth 5
[regex]::Replace($json, '[^\x00-\x7F]', { param($match) '\u{0:x4}' -f [int][char]$match.Value })
