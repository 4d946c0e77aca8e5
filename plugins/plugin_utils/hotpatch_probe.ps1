# hotpatch.windows probe: reads the raw hotpatch facts of this Windows host and prints them as ONE
# compressed JSON document (the "Raw facts" contract of the design). It changes nothing and decides
# nothing: every decision is made on the controller. A piece that cannot be read is null.
# Runs on Windows PowerShell 5.1 and PowerShell 7 (no ?? or ternary operators).
# The action plugins send this file on stdin; keep it ASCII-only.

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$CurrentVersionKey = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
$SessionManagerKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
$ImdsUri = 'http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01'

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
    product_name = Get-RegistryValue $CurrentVersionKey 'ProductName'
    edition_id = Get-RegistryValue $CurrentVersionKey 'EditionID'
    installation_type = Get-RegistryValue $CurrentVersionKey 'InstallationType'
    build = ConvertTo-NullableInt (Get-RegistryValue $CurrentVersionKey 'CurrentBuild')
    ubr = ConvertTo-NullableInt (Get-RegistryValue $CurrentVersionKey 'UBR')
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
}

# Arm64 only: HotPatchRestrictions = 1 turns CHPE off so that hotpatches can apply.
$hotpatchRestrictions = ConvertTo-NullableInt (Get-RegistryValue "$SessionManagerKey\Memory Management" 'HotPatchRestrictions')

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

# Azure Instance Metadata Service: short timeouts and no proxy, so that it never hangs off Azure.
$azure = $null
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
}

# Azure Arc: the Connected Machine agent runs as the himds service.
$arcInstalled = $false
$arcRunning = $false
try {
    $himds = Get-Service -Name 'himds' -ErrorAction Stop
    $arcInstalled = $true
    $arcRunning = ($himds.Status -eq 'Running')
}
catch {
    $arcInstalled = $false
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
}
$timezone = $null
try {
    $timezone = [System.TimeZoneInfo]::Local.Id
}
catch {
    $timezone = $null
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
}

# ASCII-only output (\uXXXX escapes) so that no console code page can garble a product or zone name.
$json = ConvertTo-Json -InputObject $facts -Compress -Depth 5
[regex]::Replace($json, '[^\x00-\x7F]', { param($match) '\u{0:x4}' -f [int][char]$match.Value })
